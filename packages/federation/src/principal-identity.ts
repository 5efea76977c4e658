// How a principal becomes the identity a cluster client carries, shared by the kubeconfig-context
// catalogs (user-catalog.ts) and the Cluster API catalogs (capi-catalog.ts), so both impersonate
// and pass tokens through in exactly the same way.
import { createHash } from "node:crypto";
import { GatewayError, type Principal } from "@capi-mcp/core";

/** The fixed `agent` extra: set last, so no user attribute can override it. */
export const agentExtra = { agent: ["capi-mcp"] } as const;

/** The impersonated identity for a principal: user, groups, then extras `sub` and, last, `agent`. */
export interface ImpersonatedIdentity {
  readonly user: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

export function impersonatedIdentity(principal: Principal): ImpersonatedIdentity {
  return {
    user: principal.username,
    groups: [...principal.groups],
    extra: { sub: [principal.subject], ...agentExtra },
  };
}

/** A short, non-reversible name for a token, for cache keys: the token itself is never a key. */
export function tokenFingerprint(token: string): string {
  return createHash("sha256").update(token).digest("base64url").slice(0, 22);
}

/** Seconds-since-epoch expiry of a JWT, read without verifying (the token came from our custody). */
export function jwtExpirySeconds(token: string): number | undefined {
  const [, payload] = token.split(".");
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { exp?: unknown };
    return typeof claims.exp === "number" ? claims.exp : undefined;
  } catch {
    return undefined;
  }
}

export interface HeldIdToken {
  readonly idToken: string;
  readonly fingerprint: string;
  /** How long a client built with this token may be kept: the default TTL, cut at the token's expiry. */
  readonly ttlMilliseconds: number;
}

/**
 * The principal's current upstream ID token, for SSO passthrough. Fails with `unauthenticated`
 * when there is none or it has expired: the caller must never reach for other credentials then.
 */
export async function currentIdTokenOf(
  principal: Principal,
  now: number,
  defaultTtlMilliseconds: number,
): Promise<HeldIdToken> {
  if (!principal.idTokenCustody) {
    throw new GatewayError(
      "unauthenticated",
      "Your login holds no identity-provider ID token to pass to the cluster. Log in again.",
      { detail: "sso-passthrough without ID token custody" },
    );
  }
  let idToken: string;
  try {
    idToken = await principal.idTokenCustody.currentIdToken();
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    // The custody's own failure may quote an identity provider's answer: keep only its kind.
    throw new GatewayError(
      "unauthenticated",
      "Your identity-provider ID token could not be obtained or refreshed. Log in again.",
      { detail: `ID token custody failed: ${error instanceof Error ? error.name : "unknown"}`, cause: error },
    );
  }
  if (idToken.length === 0) {
    throw new GatewayError(
      "unauthenticated",
      "Your login holds no identity-provider ID token to pass to the cluster. Log in again.",
      { detail: "ID token custody returned an empty token" },
    );
  }
  const expiresAt = jwtExpirySeconds(idToken);
  const remaining = expiresAt === undefined ? defaultTtlMilliseconds : expiresAt * 1000 - now;
  if (remaining <= 0) {
    throw new GatewayError("unauthenticated", "Your identity-provider login has expired. Log in again.");
  }
  return {
    idToken,
    fingerprint: tokenFingerprint(idToken),
    ttlMilliseconds: Math.min(defaultTtlMilliseconds, remaining),
  };
}
