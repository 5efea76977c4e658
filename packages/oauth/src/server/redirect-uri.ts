// Redirect URIs a client may register: https anywhere, or plain http only to a loopback address
// (native apps listening on this machine, RFC 8252 §7.3). Matching later is exact string
// comparison, so what is accepted here is exactly what must come back.

export type RedirectUriVerdict = { readonly valid: true } | { readonly valid: false; readonly reason: string };

const loopbackHosts = new Set(["127.0.0.1", "[::1]", "localhost"]);

export function validateRedirectUri(value: string): RedirectUriVerdict {
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
  return { valid: false, reason: "must use https (or http to a loopback host)" };
}

/** Whether a redirect URI lands on the user's own machine, where any local program could listen. */
export function isLoopbackRedirect(value: string): boolean {
  try {
    return loopbackHosts.has(new URL(value).hostname);
  } catch {
    return false;
  }
}
