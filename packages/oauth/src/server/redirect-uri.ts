// Redirect URIs a client may register: https anywhere, plain http only to a loopback address
// (native apps listening on this machine, RFC 8252 §7.3), and private-use URI schemes named after
// a reverse domain, such as `com.example.app:/callback` (native apps, RFC 8252 §7.1), unless the
// operator turns those off. Matching later is exact string comparison, so what is accepted here
// is exactly what must come back.

export type RedirectUriVerdict = { readonly valid: true } | { readonly valid: false; readonly reason: string };

export interface RedirectUriRules {
  /**
   * Accept private-use URI schemes in reverse-domain form (`com.example.app:`), as RFC 8252 §7.1
   * asks of native apps. Schemes without a dot (`myapp:`, and so `javascript:`, `data:`,
   * `file:`) are refused either way. Default true.
   */
  readonly allowPrivateUseSchemes?: boolean;
}

const loopbackHosts = new Set(["127.0.0.1", "[::1]", "localhost"]);

/**
 * A scheme that names a domain its owner controls, reversed (RFC 8252 §7.1, §8.4): at least two
 * dot-separated labels of letters, digits and hyphens. `new URL` has already lower-cased it.
 */
const reverseDomainSchemePattern = /^[a-z][a-z0-9-]*(?:\.[a-z0-9-]+)+$/;

/**
 * Schemes that run or read something in the browser itself rather than hand the answer to an
 * application. None has a dot, so none is reverse-domain; they are named so the refusal says why
 * and so that no later loosening of the pattern can let them in.
 */
const browserSchemes = new Set([
  "javascript",
  "data",
  "file",
  "vbscript",
  "blob",
  "about",
  "filesystem",
  "view-source",
]);

export function validateRedirectUri(value: string, rules: RedirectUriRules = {}): RedirectUriVerdict {
  if (value.includes("#")) {
    return { valid: false, reason: "must not contain a fragment (#)" };
  }
  if (value.includes("*")) {
    return { valid: false, reason: "must not contain a wildcard (*)" };
  }
  if (/\s/.test(value)) {
    return { valid: false, reason: "must not contain whitespace" };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { valid: false, reason: "is not an absolute URL" };
  }
  if (url.username !== "" || url.password !== "") {
    return { valid: false, reason: "must not contain a user name or password" };
  }
  if (url.protocol === "https:") {
    return { valid: true };
  }
  if (url.protocol === "http:") {
    return loopbackHosts.has(url.hostname)
      ? { valid: true }
      : { valid: false, reason: "may use http only for a loopback host (127.0.0.1, [::1] or localhost)" };
  }
  const scheme = url.protocol.slice(0, -1);
  if (browserSchemes.has(scheme)) {
    return { valid: false, reason: `must not use the ${scheme}: scheme, which the browser itself would act on` };
  }
  if (!reverseDomainSchemePattern.test(scheme)) {
    return {
      valid: false,
      reason:
        "must use https, http to a loopback host, or a private-use scheme named after a reverse domain (com.example.app:/callback)",
    };
  }
  if (rules.allowPrivateUseSchemes === false) {
    return { valid: false, reason: "uses a private-use URI scheme, which this gateway does not accept" };
  }
  if (url.host === "" && (url.pathname === "" || url.pathname === "/")) {
    return {
      valid: false,
      reason: "needs a path after the private-use scheme (for example com.example.app:/callback)",
    };
  }
  return { valid: true };
}

/** Whether a redirect URI lands on the user's own machine, where any local program could listen. */
export function isLoopbackRedirect(value: string): boolean {
  try {
    return loopbackHosts.has(new URL(value).hostname);
  } catch {
    return false;
  }
}

/** Whether a redirect URI uses a private-use scheme, which any app on the device may claim. */
export function isPrivateUseSchemeRedirect(value: string): boolean {
  try {
    const protocol = new URL(value).protocol;
    return protocol !== "https:" && protocol !== "http:";
  } catch {
    return false;
  }
}
