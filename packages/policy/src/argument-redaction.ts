import { redactionMarker, redactSecretValues } from "./secret-redaction.js";

// `secret`, `secrets`, `Secret`, `secrets.` with a group or version: anything a user might write
// for the core Secret resource. A CRD whose plural starts with `secrets.` is caught too, which
// only costs an audit record some detail.
const secretResourceName = /^secrets?(\.|$)/i;

// `kind: Secret` in YAML, `"kind": "Secret"` in JSON, with any quoting and spacing.
const secretKindInText = /["']?kind["']?\s*:\s*["']?Secret["']?\s*(?:[,}\r\n#]|$)/m;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function byteLength(value: unknown): number | undefined {
  if (typeof value === "string") return Buffer.byteLength(value, "utf8");
  try {
    const text = JSON.stringify(value);
    return text === undefined ? undefined : Buffer.byteLength(text, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * A manifest passed as text. JSON is parsed and redacted field by field; anything else that
 * names a Secret (YAML: the policy package has no YAML parser, by design of its dependencies)
 * is replaced whole, because a partial text rewrite could miss a value.
 */
function redactManifestText(text: string): string {
  if (!secretKindInText.test(text)) return text;
  try {
    const parsed: unknown = JSON.parse(text);
    if (isRecord(parsed) || Array.isArray(parsed)) return JSON.stringify(redactValue(parsed));
  } catch {
    // Not JSON: fall through to the whole-text marker.
  }
  return `<redacted: text naming a Secret, ${Buffer.byteLength(text, "utf8")} bytes>`;
}

const maximumDepth = 200;

/** Redacts Secrets once for the whole value, then looks into its text for manifests. */
function redactValue(value: unknown): unknown {
  return redactTextInside(redactSecretValues(value), 0);
}

function redactTextInside(value: unknown, depth: number): unknown {
  if (depth > maximumDepth) return redactionMarker(undefined);
  if (typeof value === "string") return redactManifestText(value);
  if (Array.isArray(value)) return value.map((item) => redactTextInside(item, depth + 1));
  if (!isRecord(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, redactTextInside(field, depth + 1)]));
}

/** Whether the call's `resource` argument names Secrets, so its patch body may hold values. */
function targetsSecrets(args: Record<string, unknown>): boolean {
  return (typeof args.resource === "string" && secretResourceName.test(args.resource)) || args.kind === "Secret";
}

/**
 * A tool call's arguments as they may appear in an audit record or a span: every Secret's
 * values (in a manifest given as an object or as JSON text) replaced by size markers, text
 * manifests naming a Secret that cannot be parsed replaced whole, a patch aimed at Secrets
 * replaced, and exec's `stdin` replaced. Everything else is kept, so the record still says what
 * was asked. Always redacts, whatever `allowSecretValues` says: an audit log outlives the
 * session that was allowed to see a value.
 */
export function redactToolArguments(args: Record<string, unknown>): Record<string, unknown> {
  const redacted: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    if (key === "stdin" && value !== undefined) redacted[key] = redactionMarker(byteLength(value));
    else if (key === "patch" && value !== undefined && targetsSecrets(args))
      redacted[key] = redactionMarker(byteLength(value));
    else redacted[key] = redactValue(value);
  }
  return redacted;
}
