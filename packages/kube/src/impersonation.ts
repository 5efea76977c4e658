import { GatewayError } from "@capi-mcp/core";

/** Who the connection's own credentials act as, when they are allowed to impersonate. */
export interface Impersonation {
  readonly user: string;
  readonly groups: readonly string[];
  /** Extra attributes (`Impersonate-Extra-<key>`); keys are lower-cased and escaped as client-go does. */
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

/** Header name → one value, or several to be sent as repeated header lines. */
export type HeaderValues = Record<string, string | string[]>;

// RFC 7230 `tchar`: the bytes allowed in a header name. client-go percent-encodes every other
// byte of an extra key (and '%' itself, so the API server's PathUnescape round-trips).
const tokenCharacters = new Set("!#$&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");

/** Escapes an `Impersonate-Extra-` key like client-go's `headerKeyEscape`, after lower-casing it. */
export function escapeExtraKey(key: string): string {
  let escaped = "";
  for (const byte of Buffer.from(key.toLowerCase(), "utf8")) {
    const character = String.fromCharCode(byte);
    escaped += tokenCharacters.has(character) ? character : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return escaped;
}

// A header value may not carry line breaks or NUL: undici would refuse it, and a value that could
// smuggle a second header line must never reach the wire.
function checkHeaderValue(what: string, value: string): string {
  if (value.length === 0 || /[\r\n\0]/.test(value)) {
    throw new GatewayError("invalid_input", `The impersonated ${what} is empty or contains a line break.`);
  }
  return value;
}

/** The `Impersonate-*` headers for one identity. */
export function impersonationHeaders(impersonation: Impersonation): HeaderValues {
  const headers: HeaderValues = { "Impersonate-User": checkHeaderValue("user name", impersonation.user) };
  if (impersonation.groups.length > 0) {
    headers["Impersonate-Group"] = impersonation.groups.map((group) => checkHeaderValue("group", group));
  }
  for (const [key, values] of Object.entries(impersonation.extra ?? {})) {
    if (key.length === 0) throw new GatewayError("invalid_input", "An impersonated extra attribute has an empty key.");
    if (values.length === 0) continue;
    headers[`Impersonate-Extra-${escapeExtraKey(key)}`] = values.map((value) =>
      checkHeaderValue(`extra ${key}`, value),
    );
  }
  return headers;
}

/** The strings that name the impersonated identity, so error text can be scrubbed of them. */
export function identityTerms(impersonation: Impersonation | undefined): string[] {
  if (!impersonation) return [];
  return [impersonation.user, ...impersonation.groups, ...Object.values(impersonation.extra ?? {}).flat()];
}
