// The cookies that tie a browser sign-in to the browser that started it. Two bindings, one per
// leg: the upstream sign-in (set at /oauth/authorize, checked at /oauth/callback; RFC 9700 §4.7)
// and the consent form (set with the consent page, checked at /oauth/consent). Each holds a random
// value whose SHA-256 is kept with the pending step, so the store never holds a usable value.
import { sha256 } from "./crypto.js";

export interface BrowserCookies {
  /** The login cookie's name for one upstream sign-in (derived from its state, which is not secret). */
  loginCookieName(upstreamState: string): string;
  /** A Set-Cookie header for the login binding; an empty value and 0 seconds clear it. */
  loginCookie(upstreamState: string, value: string, maxAgeSeconds: number): string;
  readonly consentCookieName: string;
  /** A Set-Cookie header for the consent binding; an empty value and 0 seconds clear it. */
  consentCookie(value: string, maxAgeSeconds: number): string;
}

export const callbackPath = "/oauth/callback";

export function createBrowserCookies(baseUrl: string): BrowserCookies {
  const secure = baseUrl.startsWith("https://");
  const secureAttribute = secure ? "; Secure" : "";
  // __Host- pins the consent cookie to this exact origin; browsers accept it only with Secure and
  // Path=/, so plain http (loopback development and tests) uses a plain name.
  const consentCookieName = secure ? "__Host-capi-mcp-consent" : "capi-mcp-consent";
  // __Host- would need Path=/; the login cookie is scoped to the callback, so it takes __Secure-.
  const loginPrefix = secure ? "__Secure-capi-mcp-login-" : "capi-mcp-login-";
  return {
    // One cookie per sign-in, so two sign-ins started in one browser (two applications, two
    // tabs) do not overwrite each other's binding.
    loginCookieName: (upstreamState) => `${loginPrefix}${sha256(upstreamState).slice(0, 16)}`,
    loginCookie(upstreamState, value, maxAgeSeconds) {
      // SameSite=Lax: the provider sends the browser back with a top-level GET from its own
      // site, which Lax allows and Strict would not.
      return `${this.loginCookieName(upstreamState)}=${value}; Path=${callbackPath}; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secureAttribute}`;
    },
    consentCookieName,
    consentCookie(value, maxAgeSeconds) {
      return `${consentCookieName}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secureAttribute}`;
    },
  };
}
