import { describe, expect, it } from "vitest";
import { validateRedirectUri } from "./redirect-uri.js";
import {
  authorizationParameters,
  authorizePath,
  createHarness,
  locationOf,
  pkcePair,
  readConsentForm,
  registerClient,
  returnFromUpstream,
  submitConsent,
} from "./testing/harness.js";

describe("private-use URI scheme redirects (RFC 8252 §7.1)", () => {
  it.each([
    "com.example.app:/callback",
    "com.example.app:/oauth2redirect/example-provider",
    "com.example.app://callback",
    "io.github.some-user.tool:/done",
  ])("accepts the reverse-domain redirect %s by default", (uri) => {
    expect(validateRedirectUri(uri)).toEqual({ valid: true });
  });

  it.each([
    ["javascript:alert(1)", "javascript:"],
    ["javascript://example.com/%0aalert(1)", "javascript:"],
    ["data:text/html,hello", "data:"],
    ["file:///etc/passwd", "file:"],
    ["vbscript:msgbox", "vbscript:"],
    ["blob:https://example.com/uuid", "blob:"],
  ])("refuses %s, which the browser itself would act on", (uri, scheme) => {
    const verdict = validateRedirectUri(uri);
    expect(verdict.valid).toBe(false);
    expect(verdict.valid ? "" : verdict.reason).toContain(scheme);
  });

  it.each([
    "myapp://callback",
    "myapp:/callback",
    "com.example.app:",
    "com.example.app:/",
    "com..example:/callback",
    "com.example.app://user:secret@callback",
    "com.example.app:/callback#fragment",
  ])("refuses %s (no reverse domain, no path, credentials or a fragment)", (uri) => {
    expect(validateRedirectUri(uri).valid).toBe(false);
  });

  it("refuses reverse-domain schemes when the option is off, and still accepts https and loopback", () => {
    const rules = { allowPrivateUseSchemes: false };
    expect(validateRedirectUri("com.example.app:/callback", rules)).toMatchObject({ valid: false });
    expect(validateRedirectUri("https://app.example.com/cb", rules)).toEqual({ valid: true });
    expect(validateRedirectUri("http://127.0.0.1:4000/cb", rules)).toEqual({ valid: true });
  });

  it("registers a native client with a private-use redirect and signs it in, with a consent page that allows the scheme", async () => {
    const harness = createHarness();
    const redirectUri = "com.example.app:/oauth/callback";
    const client = await registerClient(harness, { redirect_uris: [redirectUri] });
    const pkce = pkcePair();
    const authorize = await harness.request(
      authorizePath(authorizationParameters({ clientId: client.clientId, challenge: pkce.challenge, redirectUri })),
    );
    expect(authorize.status).toBe(302);
    const page = await returnFromUpstream(harness, authorize);
    expect(page.status).toBe(200);
    // form-action must allow the redirect after the post, or the browser blocks it.
    expect(page.headers.get("content-security-policy")).toContain("form-action 'self' com.example.app:");
    const html = await page.clone().text();
    expect(html).toContain("the application for com.example.app:");
    expect(html).toContain("another application could have claimed the same scheme");
    const done = await submitConsent(harness, await readConsentForm(page), "approve");
    const location = locationOf(done);
    expect(`${location.protocol}${location.pathname}`).toBe(redirectUri);
    expect(location.searchParams.get("code")).toMatch(/.+/);
  });

  it("refuses a private-use redirect at registration with invalid_redirect_uri when the option is off", async () => {
    const harness = createHarness({ redirectUris: { allowPrivateUseSchemes: false } });
    await expect(registerClient(harness, { redirect_uris: ["com.example.app:/callback"] })).rejects.toThrow(
      /400.*invalid_redirect_uri.*private-use/,
    );
  });
});
