import { namesSecret, redactionMarker, redactSecretValues } from "./secret-redaction.js";

/** The argument that carries a manifest, in every tool that takes one. */
const manifestArgument = "manifest";

function byteLength(value: unknown): number | undefined {
  if (typeof value === "string") return Buffer.byteLength(value, "utf8");
  try {
    const text = JSON.stringify(value);
    return text === undefined ? undefined : Buffer.byteLength(text, "utf8");
  } catch {
    return undefined;
  }
}

/** The marker for a manifest that is still text: it was not parsed, so nothing of it is recorded. */
export function unparsedManifestMarker(text: string): string {
  return `<not recorded: manifest text that was not parsed, ${Buffer.byteLength(text, "utf8")} bytes>`;
}

/** Whether the call's `resource` argument names Secrets, so its patch body may hold values. */
function targetsSecrets(args: Record<string, unknown>): boolean {
  return namesSecret(args.resource) || namesSecret(args.kind);
}

/**
 * A tool call's arguments as they may appear in an audit record or a span. Expects manifests
 * already parsed (the runner records each argument as the tool's schema parsed it), because
 * redaction is decided from the object that will be sent, never from how its text spells it:
 * a `kind` written as a JSON escape, a YAML tag or an alias is still a Secret.
 *
 * Every Secret anywhere in the value (any case of `kind`) keeps only its keys and sizes; a
 * manifest that is still text was not parsed and is replaced whole; a patch aimed at Secrets is
 * replaced; exec's `stdin` is replaced. Everything else is kept, so the record still says what
 * was asked. Always redacts, whatever `allowSecretValues` says: an audit log outlives the
 * session that was allowed to see a value.
 */
export function redactToolArguments(args: Record<string, unknown>): Record<string, unknown> {
  const redacted: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined) redacted[key] = value;
    else if (key === "stdin") redacted[key] = redactionMarker(byteLength(value));
    else if (key === "patch" && targetsSecrets(args)) redacted[key] = redactionMarker(byteLength(value));
    else if (key === manifestArgument && typeof value === "string") redacted[key] = unparsedManifestMarker(value);
    else redacted[key] = redactSecretValues(value);
  }
  return redacted;
}
