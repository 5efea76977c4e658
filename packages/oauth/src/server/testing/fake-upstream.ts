// A stand-in identity provider: startLogin hands out a state, the test "logs in" by choosing the
// claims, and finishLogin checks the state like openid-client would. Not exported.
import { randomBytes } from "node:crypto";
import { GatewayError } from "@capi-mcp/core";
import type { UpstreamLoginRequest, UpstreamProvider, UpstreamTokens } from "../../contracts.js";

export const upstreamIssuer = "https://idp.example.test";

export interface FakeUpstream extends UpstreamProvider {
  /** The claims the next successful login (and refreshes) yield. */
  claims: Record<string, unknown>;
  /** Seconds an issued upstream ID token lives. */
  idTokenSeconds: number;
  /** Makes refresh fail as the provider would for a disabled user. */
  refuseRefresh: boolean;
  /** Makes refresh fail as an unreachable provider would. */
  unreachable: boolean;
  readonly refreshCalls: string[];
  readonly issuedIdTokens: string[];
}

function fakeJwt(subject: string, serial: number): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${encode({ alg: "RS256", typ: "JWT" })}.${encode({ iss: upstreamIssuer, sub: subject, n: serial })}.${randomBytes(16).toString("base64url")}`;
}

export function createFakeUpstream(now: () => number): FakeUpstream {
  let serial = 0;
  const refreshCalls: string[] = [];
  const issuedIdTokens: string[] = [];

  function issue(withNonce: string | undefined): UpstreamTokens {
    serial += 1;
    const idToken = fakeJwt(String(fake.claims.sub), serial);
    issuedIdTokens.push(idToken);
    return {
      claims: { iss: upstreamIssuer, ...fake.claims, ...(withNonce === undefined ? {} : { nonce: withNonce }) },
      idToken,
      idTokenExpiresAt: Math.floor(now() / 1000) + fake.idTokenSeconds,
      refreshToken: `upstream-refresh-${serial}`,
    };
  }

  const fake: FakeUpstream = {
    issuer: upstreamIssuer,
    claims: { sub: "user-1", email: "ada@example.com", email_verified: true, groups: ["developers"] },
    idTokenSeconds: 3600,
    refuseRefresh: false,
    unreachable: false,
    refreshCalls,
    issuedIdTokens,
    async startLogin(): Promise<UpstreamLoginRequest> {
      const state = randomBytes(16).toString("base64url");
      const url = new URL(`${upstreamIssuer}/authorize`);
      url.searchParams.set("state", state);
      return {
        url,
        state,
        nonce: randomBytes(16).toString("base64url"),
        codeVerifier: randomBytes(32).toString("base64url"),
      };
    },
    async finishLogin(callbackUrl, expected) {
      if (callbackUrl.searchParams.get("state") !== expected.state) {
        throw new GatewayError("unauthenticated", "The sign-in state does not match.");
      }
      if (callbackUrl.searchParams.get("code") !== "upstream-code") {
        throw new GatewayError("unauthenticated", "The identity provider refused the code.");
      }
      return issue(expected.nonce);
    },
    async refresh(refreshToken) {
      refreshCalls.push(refreshToken);
      // Yield once, so concurrent callers really overlap.
      await new Promise((resolve) => setImmediate(resolve));
      if (fake.unreachable) {
        throw new GatewayError("unavailable", "The identity provider is unreachable.");
      }
      if (fake.refuseRefresh) {
        throw new GatewayError("unauthenticated", "The identity provider refused the refresh token.");
      }
      return issue(undefined);
    },
  };
  return fake;
}
