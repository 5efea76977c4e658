import { describe, expect, it } from "vitest";
import {
  authorizationParameters,
  authorizePath,
  cookiesSetBy,
  createHarness,
  type Harness,
  locationOf,
  pkcePair,
  readConsentForm,
  registerClient,
  returnFromUpstream,
  submitConsent,
} from "./testing/harness.js";

async function startSignIn(harness: Harness, resource?: string): Promise<Response> {
  const client = await registerClient(harness);
  const response = await harness.request(
    authorizePath(
      authorizationParameters({
        clientId: client.clientId,
        challenge: pkcePair().challenge,
        ...(resource === undefined ? {} : { extra: { resource } }),
      }),
    ),
  );
  expect(locationOf(response).searchParams.get("error")).toBeNull();
  return response;
}

describe("the upstream sign-in is bound to the browser that started it (RFC 9700 §4.7)", () => {
  it("sets an HttpOnly, SameSite=Lax login cookie scoped to the callback path, without Secure on plain http", async () => {
    const harness = createHarness();
    const [cookie, ...others] = (await startSignIn(harness)).headers.getSetCookie();
    expect(others).toEqual([]);
    expect(cookie).toMatch(/^capi-mcp-login-[A-Za-z0-9_-]{16}=[A-Za-z0-9_-]{43}; /);
    const attributes = (cookie ?? "").split("; ").slice(1);
    expect(attributes).toEqual(
      expect.arrayContaining(["Path=/oauth/callback", "HttpOnly", "SameSite=Lax", "Max-Age=600"]),
    );
    expect(attributes).not.toContain("Secure");
  });

  it("marks the login cookie Secure (and __Secure-) when the base URL is https", async () => {
    const harness = createHarness({ baseUrl: "https://mcp.example.test" });
    const [cookie] = (await startSignIn(harness, "https://mcp.example.test/mcp")).headers.getSetCookie();
    expect(cookie).toMatch(/^__Secure-capi-mcp-login-[A-Za-z0-9_-]{16}=/);
    expect((cookie ?? "").split("; ")).toContain("Secure");
  });

  it("keeps only a hash of the cookie's value with the pending sign-in", async () => {
    const harness = createHarness();
    const authorize = await startSignIn(harness);
    const value = cookiesSetBy(authorize).split("=")[1] ?? "";
    expect(value).toHaveLength(43);
    expect(harness.store.dump().some((entry) => entry.includes(value))).toBe(false);
  });

  it("refuses a callback without the cookie with a clear page, spending nothing, and the right browser still signs in", async () => {
    const harness = createHarness();
    const authorize = await startSignIn(harness);
    const finishCalls: number[] = [];
    const finishLogin = harness.upstream.finishLogin.bind(harness.upstream);
    harness.upstream.finishLogin = async (...parameters) => {
      finishCalls.push(1);
      return finishLogin(...parameters);
    };
    for (const cookie of [
      "",
      "capi-mcp-login-AAAAAAAAAAAAAAAA=forged",
      cookiesSetBy(authorize).replace(/=.*/, "=forged"),
    ]) {
      const refused = await returnFromUpstream(harness, authorize, { cookie });
      expect(refused.status).toBe(403);
      expect(refused.headers.get("content-type")).toMatch(/^text\/html/);
      expect(await refused.text()).toContain("started in another browser");
    }
    // An error answer from another browser must not end the sign-in either.
    const forgedError = await returnFromUpstream(harness, authorize, { cookie: "", query: "error=access_denied" });
    expect(forgedError.status).toBe(403);
    expect(finishCalls).toEqual([]);
    expect(harness.events.filter((event) => event.type === "login" || event.type === "login_refused")).toEqual([]);

    const page = await returnFromUpstream(harness, authorize);
    expect(page.status).toBe(200);
    // The binding is spent with the sign-in: the browser is told to drop it.
    expect(page.headers.getSetCookie().some((line) => /^capi-mcp-login-[^=]+=;.*Max-Age=0/.test(line))).toBe(true);
    const done = await submitConsent(harness, await readConsentForm(page), "approve");
    expect(locationOf(done).searchParams.get("code")).toMatch(/.+/);
    expect(finishCalls).toEqual([1]);
  });

  it("does not let one sign-in's cookie complete another sign-in", async () => {
    const harness = createHarness();
    const first = await startSignIn(harness);
    const second = await startSignIn(harness);
    expect(cookiesSetBy(first)).not.toBe(cookiesSetBy(second));
    expect((await returnFromUpstream(harness, second, { cookie: cookiesSetBy(first) })).status).toBe(403);
    // Two sign-ins in one browser each keep their own cookie.
    const bothCookies = `${cookiesSetBy(first)}; ${cookiesSetBy(second)}`;
    expect((await returnFromUpstream(harness, first, { cookie: bothCookies })).status).toBe(200);
    expect((await returnFromUpstream(harness, second, { cookie: bothCookies })).status).toBe(200);
  });
});
