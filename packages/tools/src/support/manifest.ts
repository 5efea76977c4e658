import { type ApiResource, type ClusterAccess, GatewayError, type KubeObject } from "@capi-mcp/core";
import { parseAllDocuments } from "yaml";
import { z } from "zod";

/**
 * A manifest argument. Text is parsed here, by the schema, so that the parsed input is the
 * object that will be sent: the audit record is redacted from that object (a Secret is a Secret
 * however its text spells `kind`), never from the text. A text that does not parse fails the
 * call with the parser's reason (a `GatewayError` thrown from the transform passes through zod).
 */
export const manifestField = z
  .union([
    z.record(z.string(), z.unknown()),
    z
      .string()
      .min(1)
      .max(1_048_576)
      .transform((text) => parseText(text)),
  ])
  .describe("ONE Kubernetes object: a JSON object, or its YAML/JSON text. Needs apiVersion, kind and metadata.name.");

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseText(text: string): unknown {
  const documents = parseAllDocuments(text);
  const nonEmpty = documents.filter((document) => document.contents !== null || document.errors.length > 0);
  for (const document of nonEmpty) {
    const [firstError] = document.errors;
    if (firstError !== undefined) {
      const where = firstError.linePos?.[0];
      const position = where === undefined ? "" : ` (line ${where.line}, column ${where.col})`;
      throw new GatewayError(
        "invalid_input",
        `The manifest is not valid YAML or JSON${position}: ${firstError.message.split("\n")[0]}`,
      );
    }
  }
  if (nonEmpty.length === 0)
    throw new GatewayError("invalid_input", "The manifest is empty: pass one Kubernetes object.");
  if (nonEmpty.length > 1) {
    throw new GatewayError(
      "invalid_input",
      `The manifest holds ${nonEmpty.length} YAML documents; this tool takes exactly one object. Call it once per object.`,
    );
  }
  try {
    return nonEmpty[0]?.toJS();
  } catch (error) {
    // The document is well-formed but has no value: an alias used before its anchor, or one
    // that expands past the parser's alias limit.
    throw new GatewayError(
      "invalid_input",
      `The manifest is not valid YAML: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
    );
  }
}

export interface ParsedManifest {
  readonly object: KubeObject;
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string | undefined;
}

/**
 * One Kubernetes object from a tool argument: an object as is, or YAML/JSON text. Everything
 * the tool needs to address it (apiVersion, kind, a name) is checked here so the model hears
 * about a missing field before any API call.
 */
export function parseManifest(manifest: unknown, options: { requireName: boolean }): ParsedManifest {
  const value = typeof manifest === "string" ? parseText(manifest) : manifest;
  if (!isRecord(value)) {
    throw new GatewayError(
      "invalid_input",
      "The manifest must be one Kubernetes object (a mapping), not a list or a scalar.",
    );
  }
  const { apiVersion, kind, metadata } = value;
  const missing: string[] = [];
  if (typeof apiVersion !== "string" || apiVersion === "") missing.push("apiVersion");
  if (typeof kind !== "string" || kind === "") missing.push("kind");
  if (missing.length > 0) {
    throw new GatewayError(
      "invalid_input",
      `The manifest has no ${missing.join(" and no ")}: every object needs both (for example apiVersion: apps/v1, kind: Deployment).`,
    );
  }
  if (typeof kind === "string" && kind.endsWith("List") && Array.isArray(value.items)) {
    throw new GatewayError("invalid_input", `The manifest is a ${kind}; pass its items one at a time.`);
  }
  if (metadata !== undefined && !isRecord(metadata)) {
    throw new GatewayError("invalid_input", "The manifest's metadata must be a mapping.");
  }
  const name = typeof metadata?.name === "string" && metadata.name !== "" ? metadata.name : undefined;
  const generateName = typeof metadata?.generateName === "string" && metadata.generateName !== "";
  if (name === undefined && (options.requireName || !generateName)) {
    throw new GatewayError(
      "invalid_input",
      options.requireName
        ? "The manifest has no metadata.name: server-side apply needs the object's name."
        : "The manifest has no metadata.name (or metadata.generateName).",
    );
  }
  return { object: value as KubeObject, apiVersion: apiVersion as string, kind: kind as string, name };
}

/**
 * Picks the namespace for a manifest: the object's own, else the argument, else "default".
 * Two different namespaces are an error, as in kubectl, so nothing lands where it was not meant to.
 */
export function manifestNamespace(object: KubeObject, argument: string | undefined): string {
  const own = object.metadata?.namespace;
  if (own !== undefined && own !== "" && argument !== undefined && own !== argument) {
    throw new GatewayError(
      "invalid_input",
      `The manifest says namespace "${own}" but the namespace argument is "${argument}": drop one or make them match.`,
    );
  }
  return own !== undefined && own !== "" ? own : (argument ?? "default");
}

/** A JSON or YAML string argument (patches), or the value itself. */
export function parseStructuredArgument(value: unknown, what: string): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new GatewayError(
      "invalid_input",
      `The ${what} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

export interface PreparedManifest {
  readonly resource: ApiResource;
  readonly object: KubeObject;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
}

/**
 * Parses a manifest and resolves its type on the cluster. For a namespaced type the object's
 * metadata.namespace is set to the namespace used, so the body and the URL always agree; a
 * cluster-scoped object is sent without one.
 */
export async function prepareManifest(
  access: ClusterAccess,
  manifest: unknown,
  namespaceArgument: string | undefined,
  options: { requireName: boolean },
): Promise<PreparedManifest> {
  const parsed = parseManifest(manifest, options);
  const resource = await access.resolve({ resource: parsed.kind, apiVersion: parsed.apiVersion });
  const object = structuredClone(parsed.object);
  if (!resource.namespaced) {
    if (object.metadata?.namespace !== undefined) delete object.metadata.namespace;
    return { resource, object, namespace: undefined, name: parsed.name };
  }
  const namespace = manifestNamespace(object, namespaceArgument);
  object.metadata = { ...object.metadata, namespace };
  return { resource, object, namespace, name: parsed.name };
}
