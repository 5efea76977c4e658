import { GatewayError, type GatewayErrorCause, type KubeObject } from "@capi-mcp/core";

// The rules compare strings. A value of another type (an array, an object with its own
// `toString`) would slip past a comparison and be read differently by the API server, so the
// shape of everything the rules or the server read as a name is checked before any rule runs.
const stringFields = [
  "name",
  "generateName",
  "namespace",
  "uid",
  "resourceVersion",
  "selfLink",
  "creationTimestamp",
  "deletionTimestamp",
] as const;
const stringMapFields = ["labels", "annotations"] as const;
const integerFields = ["generation", "deletionGracePeriodSeconds"] as const;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function metadataCauses(metadata: Record<string, unknown>): GatewayErrorCause[] {
  const causes: GatewayErrorCause[] = [];
  const wrongType = (field: string, expected: string, value: unknown) =>
    causes.push({ field, reason: "FieldValueTypeInvalid", message: `must be ${expected}, not ${describeType(value)}` });
  for (const field of stringFields) {
    const value = metadata[field];
    if (value !== undefined && typeof value !== "string") wrongType(`metadata.${field}`, "a string", value);
  }
  for (const field of integerFields) {
    const value = metadata[field];
    if (value !== undefined && !Number.isSafeInteger(value)) wrongType(`metadata.${field}`, "an integer", value);
  }
  for (const field of stringMapFields) {
    const value = metadata[field];
    if (value === undefined || value === null) continue;
    if (!isPlainObject(value)) {
      wrongType(`metadata.${field}`, "a map of strings", value);
      continue;
    }
    for (const [key, entry] of Object.entries(value)) {
      if (typeof entry !== "string") wrongType(`metadata.${field}[${JSON.stringify(key)}]`, "a string", entry);
    }
  }
  const finalizers = metadata.finalizers;
  if (finalizers !== undefined && finalizers !== null) {
    if (!Array.isArray(finalizers)) wrongType("metadata.finalizers", "a list of strings", finalizers);
    else
      finalizers.forEach((entry, index) => {
        if (typeof entry !== "string") wrongType(`metadata.finalizers[${index}]`, "a string", entry);
      });
  }
  for (const field of ["ownerReferences", "managedFields"] as const) {
    const value = metadata[field];
    if (value === undefined || value === null) continue;
    if (!Array.isArray(value) || !value.every(isPlainObject))
      wrongType(`metadata.${field}`, "a list of objects", value);
  }
  return causes;
}

/**
 * Refuses an object whose top level or `metadata` does not have the types Kubernetes gives
 * them (strings where Kubernetes has strings), with one cause per field at fault. Runs before
 * any namespace rule, so the rules only ever compare real strings.
 */
export function assertWellFormedObject(object: unknown): asserts object is KubeObject {
  const causes: GatewayErrorCause[] = [];
  if (!isPlainObject(object)) {
    causes.push({
      field: "(object)",
      reason: "FieldValueTypeInvalid",
      message: `must be an object, not ${describeType(object)}`,
    });
  } else {
    for (const field of ["apiVersion", "kind"] as const) {
      const value = object[field];
      if (value !== undefined && typeof value !== "string") {
        causes.push({
          field,
          reason: "FieldValueTypeInvalid",
          message: `must be a string, not ${describeType(value)}`,
        });
      }
    }
    const metadata = object.metadata;
    if (metadata !== undefined) {
      if (isPlainObject(metadata)) causes.push(...metadataCauses(metadata));
      else
        causes.push({
          field: "metadata",
          reason: "FieldValueTypeInvalid",
          message: `must be an object, not ${describeType(metadata)}`,
        });
    }
  }
  if (causes.length === 0) return;
  throw new GatewayError(
    "invalid_input",
    `The manifest is malformed: ${causes.map((cause) => `${cause.field} ${cause.message}`).join("; ")}. ` +
      "Fix these fields and send it again; nothing was sent to the cluster.",
    { causes, detail: `malformed manifest refused by the guard (${causes.length} fields)` },
  );
}

/** The name an object asks for, treating "" as none (the API server does the same). */
export function requestedName(object: KubeObject): string | undefined {
  const name = object.metadata?.name;
  return name === undefined || name === "" ? undefined : name;
}

/** `metadata.generateName` when the object asks the API server to invent its name. */
export function requestedNamePrefix(object: KubeObject): string | undefined {
  if (requestedName(object) !== undefined) return undefined;
  const prefix = object.metadata?.generateName;
  return prefix === undefined || prefix === "" ? undefined : prefix;
}
