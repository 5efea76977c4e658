/**
 * The verified human a tool call acts for. Built by the authentication step from an identity
 * provider's ID token; carried unchanged to the Kubernetes call, where it becomes impersonation
 * headers or, in SSO passthrough, the user's own ID token fetched through `idTokenCustody`.
 */
export interface Principal {
  /** The identity provider's subject (`sub`), stable per user and issuer. */
  readonly subject: string;
  /** The identity provider's issuer URL. */
  readonly issuer: string;
  /** The Kubernetes username this principal acts as (by default the email). */
  readonly username: string;
  readonly email: string | undefined;
  readonly emailVerified: boolean;
  /** Kubernetes group names, after any configured mapping; never `system:` groups. */
  readonly groups: readonly string[];
  /**
   * Access to the user's upstream ID token, held server-side. The token itself never sits on
   * the principal, so a principal can be logged or put on a span without leaking it.
   */
  readonly idTokenCustody: IdTokenCustody | undefined;
}

export interface IdTokenCustody {
  /** Returns a currently valid upstream ID token, refreshing it first when near expiry. */
  currentIdToken(): Promise<string>;
}

/** A stable key for the principal's identity: the same user with other groups is another key. */
export function principalIdentityKey(principal: Principal): string {
  const groups = [...principal.groups].sort();
  return JSON.stringify([principal.issuer, principal.subject, principal.username, groups]);
}
