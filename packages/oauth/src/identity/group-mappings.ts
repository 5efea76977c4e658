// The `--group-mappings-file`: identity-provider group names to Kubernetes group names. It is
// checked once at start-up with the same rules as groups at login, so a mapping can never be
// the way a `system:` group or a header-unsafe name reaches a cluster.
import { readFile } from "node:fs/promises";
import { GatewayError } from "@capi-mcp/core";
import type { IdentityRules } from "../contracts.js";
import { identityValueProblem, maximumGroupCount, maximumGroupLength, valueIsUnprintable } from "./identity-values.js";

export type GroupMappings = IdentityRules["groupMappings"];

/** More entries than this is not a mapping anyone maintains by hand; it is a mistake. */
const maximumMappingEntries = 10_000;
const maximumFileBytes = 1024 * 1024;

function invalid(source: string, reason: string): GatewayError {
  return new GatewayError("invalid_input", `The group mappings file ${source} is not usable: ${reason}.`, {
    detail: `group mappings ${source}: ${reason}`,
  });
}

function checkName(source: string, what: string, name: string): void {
  const problem = identityValueProblem(name, maximumGroupLength);
  if (problem === undefined) return;
  const shown = valueIsUnprintable(problem) ? "" : ` ${JSON.stringify(name)}`;
  throw invalid(source, `${what}${shown} ${problem}`);
}

/**
 * Parses the JSON text of a group mappings file: an object whose keys are identity-provider
 * group names and whose values are lists of Kubernetes group names (an empty list drops the
 * group). Only JSON is accepted: the oauth package has no YAML parser.
 */
export function parseGroupMappings(text: string, source: string): GroupMappings {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid(
      source,
      'it is not valid JSON (only JSON is supported, for example {"idp-group": ["kubernetes-group"]}; YAML is not)',
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw invalid(source, 'it must be a JSON object such as {"idp-group": ["kubernetes-group"]}');
  }
  const entries = Object.entries(parsed);
  if (entries.length > maximumMappingEntries) {
    throw invalid(source, `it has ${entries.length} entries; at most ${maximumMappingEntries} are accepted`);
  }
  const mappings: [string, readonly string[]][] = [];
  for (const [group, targets] of entries) {
    checkName(source, "the identity-provider group", group);
    if (!Array.isArray(targets) || !targets.every((target): target is string => typeof target === "string")) {
      throw invalid(source, `the value for ${JSON.stringify(group)} must be a list of group names`);
    }
    if (targets.length > maximumGroupCount) {
      throw invalid(source, `${JSON.stringify(group)} maps to more than ${maximumGroupCount} groups`);
    }
    for (const target of targets) checkName(source, `the Kubernetes group for ${JSON.stringify(group)}`, target);
    mappings.push([group, Object.freeze([...new Set(targets)])]);
  }
  // fromEntries defines own properties, so a key named __proto__ stays a key.
  return Object.freeze(Object.fromEntries(mappings));
}

/** Reads and checks a JSON group mappings file (see `parseGroupMappings`). */
export async function loadGroupMappings(file: string): Promise<GroupMappings> {
  if (/\.ya?ml$/i.test(file)) {
    throw invalid(file, "YAML is not supported; write the mappings as JSON");
  }
  let text: string;
  try {
    const content = await readFile(file);
    if (content.length > maximumFileBytes) throw invalid(file, "it is larger than 1 MiB");
    text = content.toString("utf8");
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? "unknown error";
    throw invalid(file, `it cannot be read (${code})`);
  }
  return parseGroupMappings(text, file);
}
