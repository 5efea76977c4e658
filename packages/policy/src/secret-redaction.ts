/**
 * kubectl's client-side apply copies the whole applied manifest into this annotation, so on a
 * Secret it holds every value a second time, outside `data`.
 */
export const lastAppliedConfigurationAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

/** The fields of a Secret whose values are secret; their keys are not. */
const secretValueFields = ["data", "stringData"] as const;

/**
 * The fields of a Secret that hold no value and are kept as they are. Every other field is
 * replaced: a value tucked under a field the API server drops (a typo, a YAML `<<` key) is still
 * a value the caller meant to keep secret, and an audit record must not hold it.
 */
const secretFieldsWithoutValues = new Set(["apiVersion", "kind", "metadata", "type", "immutable"]);

// `Secret`, `secret`, `SECRET`, `secrets`, `secrets.v1`: every spelling the gateway's resource
// resolution accepts for the core Secret type, or the API server might. A CRD whose kind starts
// with `secrets.` is caught too, which only costs an answer some detail.
const secretKindName = /^secrets?(\.|$)/i;
const secretListKindName = /^secretlist$/i;

/** Whether a `kind` (or a resource name) names Secrets, in any case. */
export function namesSecret(kind: unknown): boolean {
  return typeof kind === "string" && secretKindName.test(kind.trim());
}

export interface SanitizeOptions {
  /** Replace the values of Secrets' `data` and `stringData`. */
  readonly redactSecretValues: boolean;
  /**
   * Treat the top-level object (or the items of a top-level list) as a Secret even without a
   * `kind`: items of a SecretList usually carry no kind of their own.
   */
  readonly assumeSecret?: boolean;
}

/** The marker that stands in for one secret value: its size, never its content. */
export function redactionMarker(byteLength: number | undefined): string {
  return byteLength === undefined ? "<redacted>" : `<redacted: ${byteLength} bytes>`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const base64Text = /^[A-Za-z0-9+/]*={0,2}$/;

function decodedByteLength(field: (typeof secretValueFields)[number], value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  // `data` is base64 as the API serves it; `stringData` is plain text. Both sizes are what the
  // workload would read, which is what a person checking "is it empty?" needs.
  if (field === "data" && base64Text.test(value)) return Buffer.from(value, "base64").byteLength;
  return Buffer.byteLength(value, "utf8");
}

function byteLengthOf(value: unknown): number | undefined {
  if (typeof value === "string") return Buffer.byteLength(value, "utf8");
  try {
    const text = JSON.stringify(value);
    return text === undefined ? undefined : Buffer.byteLength(text, "utf8");
  } catch {
    return undefined;
  }
}

function redactValues(field: (typeof secretValueFields)[number], values: unknown): unknown {
  if (!isRecord(values)) return values === undefined || values === null ? values : redactionMarker(undefined);
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [key, redactionMarker(decodedByteLength(field, value))]),
  );
}

function withoutLastApplied(metadata: unknown): unknown {
  if (!isRecord(metadata) || !isRecord(metadata.annotations)) return metadata;
  if (!(lastAppliedConfigurationAnnotation in metadata.annotations)) return metadata;
  const { [lastAppliedConfigurationAnnotation]: _removed, ...annotations } = metadata.annotations;
  return { ...metadata, annotations };
}

/**
 * Copies a value, redacting every Secret found anywhere inside it (a List of mixed kinds, a
 * SecretList, an object that embeds a Secret) and removing the last-applied annotation from
 * every object. The input is never modified.
 */
export function sanitizeObjects<T>(value: T, options: SanitizeOptions): T {
  return sanitize(value, options, options.assumeSecret === true, 0) as T;
}

// Deeper than any real Kubernetes object; guards against a pathological or cyclic input
// turning redaction into a stack overflow (which would surface as an unredacted error path).
const maximumDepth = 200;

function sanitize(value: unknown, options: SanitizeOptions, assumeSecret: boolean, depth: number): unknown {
  if (depth > maximumDepth) return redactionMarker(undefined);
  if (Array.isArray(value)) return value.map((item) => sanitize(item, options, false, depth + 1));
  if (!isRecord(value)) return value;
  const isSecret = namesSecret(value.kind) || (assumeSecret && value.kind === undefined);
  // A list's items inherit the hint: a SecretList (or a list asked for as secrets) holds Secrets.
  const itemsAreSecrets =
    assumeSecret || (typeof value.kind === "string" && secretListKindName.test(value.kind.trim()));
  const redactsValues = isSecret && options.redactSecretValues;
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (key === "metadata") copy[key] = sanitize(withoutLastApplied(field), options, false, depth + 1);
    else if (key === "items" && Array.isArray(field) && !redactsValues)
      copy[key] = field.map((item) => sanitize(item, options, itemsAreSecrets, depth + 1));
    else if (redactsValues && (key === "data" || key === "stringData")) copy[key] = redactValues(key, field);
    else if (redactsValues && !secretFieldsWithoutValues.has(key)) copy[key] = redactionMarker(byteLengthOf(field));
    else copy[key] = sanitize(field, options, false, depth + 1);
  }
  return copy;
}

/**
 * Replaces every `data` / `stringData` value of every Secret in `value` with a size marker
 * (keys kept) and removes the last-applied annotation everywhere. For audit records, answers
 * and anything else that must never carry a secret value.
 */
export function redactSecretValues<T>(value: T, options: { readonly assumeSecret?: boolean } = {}): T {
  return sanitizeObjects(value, { redactSecretValues: true, assumeSecret: options.assumeSecret ?? false });
}

/** Removes the last-applied annotation everywhere in `value`, keeping secret values. */
export function removeLastAppliedConfiguration<T>(value: T): T {
  return sanitizeObjects(value, { redactSecretValues: false });
}
