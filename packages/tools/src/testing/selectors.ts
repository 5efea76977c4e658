import type { KubeObject } from "@capi-mcp/core";
import { valueAt } from "../shaping/object-fields.js";

// Just enough of the API server's selector semantics for the double to filter like one.

function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = "";
  for (const character of selector) {
    if (character === "(") depth += 1;
    if (character === ")") depth -= 1;
    if (character === "," && depth === 0) {
      terms.push(current.trim());
      current = "";
    } else {
      current += character;
    }
  }
  if (current.trim() !== "") terms.push(current.trim());
  return terms.filter((term) => term !== "");
}

export function matchesLabelSelector(object: KubeObject, selector: string | undefined): boolean {
  if (selector === undefined || selector.trim() === "") return true;
  const labels = object.metadata?.labels ?? {};
  return splitTerms(selector).every((term) => {
    const setMatch = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (setMatch !== null) {
      const [, key = "", operator, values = ""] = setMatch;
      const allowed = values.split(",").map((value) => value.trim());
      const value = labels[key];
      return operator === "in"
        ? value !== undefined && allowed.includes(value)
        : !(value !== undefined && allowed.includes(value));
    }
    if (term.startsWith("!")) return labels[term.slice(1)] === undefined;
    const notEqual = term.split("!=");
    if (notEqual.length === 2) return labels[notEqual[0]?.trim() ?? ""] !== notEqual[1]?.trim();
    const equal = term.split(/==?/);
    if (equal.length === 2) return labels[equal[0]?.trim() ?? ""] === equal[1]?.trim();
    return labels[term] !== undefined;
  });
}

export function matchesFieldSelector(object: KubeObject, selector: string | undefined): boolean {
  if (selector === undefined || selector.trim() === "") return true;
  return splitTerms(selector).every((term) => {
    const notEqual = term.split("!=");
    const [path, expected, negate] =
      notEqual.length === 2 ? [notEqual[0], notEqual[1], true] : [...term.split(/==?/), false];
    const actual = valueAt(object, String(path).trim());
    const matches = String(actual ?? "") === String(expected ?? "").trim();
    return negate === true ? !matches : matches;
  });
}
