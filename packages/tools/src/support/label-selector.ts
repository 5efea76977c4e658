import { GatewayError } from "@capi-mcp/core";

// Cluster selectors are matched here, over the labels of the clusters the caller may see, not
// by an API server; so the syntax is parsed and checked here, with the rules Kubernetes applies.

export type LabelRequirement =
  | { readonly key: string; readonly operator: "exists" | "notExists" }
  | { readonly key: string; readonly operator: "equals" | "notEquals"; readonly value: string }
  | { readonly key: string; readonly operator: "in" | "notIn"; readonly values: readonly string[] };

/** A parsed selector: every requirement must hold (terms are joined by AND, as in kubectl -l). */
export interface LabelSelector {
  readonly text: string;
  readonly requirements: readonly LabelRequirement[];
}

const labelName = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const maximumNameLength = 63;
const maximumPrefixLength = 253;

const examples = "Examples: env=prod, tier!=cache, region in (eu,us), env notin (dev), owner, !deprecated.";

function invalid(selector: string, problem: string): GatewayError {
  return new GatewayError("invalid_input", `The label selector "${selector}" is not valid: ${problem} ${examples}`);
}

function keyProblem(key: string): string | undefined {
  const slash = key.indexOf("/");
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > maximumPrefixLength || !dnsSubdomain.test(prefix))) {
    return `the key prefix "${prefix}" must be a lower-case DNS subdomain (example.com).`;
  }
  if (name.length > maximumNameLength || !labelName.test(name)) {
    return `the key "${key}" must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (optionally after a prefix/).`;
  }
  return undefined;
}

function valueProblem(value: string): string | undefined {
  if (value === "") return undefined;
  if (value.length > maximumNameLength || !labelName.test(value)) {
    return `the value "${value}" must be empty or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit.`;
  }
  return undefined;
}

/** Splits on the commas between terms, not those inside `in (a,b)`. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = "";
  for (const character of selector) {
    if (character === "(") depth += 1;
    if (character === ")") depth -= 1;
    if (depth < 0 || depth > 1) throw invalid(selector, "its parentheses do not match.");
    if (character === "," && depth === 0) {
      terms.push(current.trim());
      current = "";
    } else {
      current += character;
    }
  }
  if (depth !== 0) throw invalid(selector, "its parentheses do not match.");
  terms.push(current.trim());
  return terms;
}

const setTerm = /^([^\s!=(),]+)\s+(in|notin)\s*\((.*)\)$/;
const comparisonTerm = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/;
const absenceTerm = /^!\s*([^\s!=(),]+)$/;
const presenceTerm = /^([^\s!=(),]+)$/;

function parseTerm(selector: string, term: string): LabelRequirement {
  if (term === "") throw invalid(selector, "it has an empty term (two commas in a row, or a comma at an end).");
  const checkedKey = (key: string): string => {
    const problem = keyProblem(key);
    if (problem !== undefined) throw invalid(selector, problem);
    return key;
  };
  const checkedValue = (value: string): string => {
    const problem = valueProblem(value);
    if (problem !== undefined) throw invalid(selector, problem);
    return value;
  };
  const set = setTerm.exec(term);
  if (set !== null) {
    const [, key = "", operator, list = ""] = set;
    const values = list.split(",").map((value) => value.trim());
    if (list.trim() === "" || values.some((value) => value === "")) {
      throw invalid(selector, `"${term}" needs a non-empty, comma-separated list of values in the parentheses.`);
    }
    return { key: checkedKey(key), operator: operator === "in" ? "in" : "notIn", values: values.map(checkedValue) };
  }
  const comparison = comparisonTerm.exec(term);
  if (comparison !== null) {
    const [, key = "", operator, value = ""] = comparison;
    return {
      key: checkedKey(key),
      operator: operator === "!=" ? "notEquals" : "equals",
      value: checkedValue(value),
    };
  }
  const absence = absenceTerm.exec(term);
  if (absence !== null) return { key: checkedKey(absence[1] ?? ""), operator: "notExists" };
  const presence = presenceTerm.exec(term);
  if (presence !== null) return { key: checkedKey(presence[1] ?? ""), operator: "exists" };
  throw invalid(selector, `"${term}" is not a requirement it understands.`);
}

/**
 * Parses a label selector as kubectl -l takes it: `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
 * `k notin (a,b)`, `k` and `!k`, joined by commas. An empty selector selects everything.
 * Anything else is an `invalid_input` error that says what is wrong and shows the syntax.
 */
export function parseLabelSelector(selector: string): LabelSelector {
  const text = selector.trim();
  if (text === "") return { text, requirements: [] };
  return { text, requirements: splitTerms(text).map((term) => parseTerm(text, term)) };
}

function holds(requirement: LabelRequirement, value: string | undefined): boolean {
  switch (requirement.operator) {
    case "exists":
      return value !== undefined;
    case "notExists":
      return value === undefined;
    case "equals":
      return value === requirement.value;
    case "notEquals":
      return value !== requirement.value;
    case "in":
      return value !== undefined && requirement.values.includes(value);
    case "notIn":
      return value === undefined || !requirement.values.includes(value);
  }
}

/** Kubernetes semantics: `!=` and `notin` also hold when the label is absent. */
export function matchesLabels(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const present = labels ?? {};
  return selector.requirements.every((requirement) =>
    holds(requirement, Object.hasOwn(present, requirement.key) ? present[requirement.key] : undefined),
  );
}
