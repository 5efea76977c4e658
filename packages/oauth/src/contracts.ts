// The seams of the oauth package: where tokens are kept, how users log in upstream, and how an
// upstream identity becomes a Principal. The authorization server depends on these interfaces only.

/**
 * Server-side storage for codes, tokens and sessions. Keys never contain a raw token (callers
 * key by a hash); values are opaque strings (JSON), encrypted at rest by the encrypting wrapper.
 */
export interface TokenStore {
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  get(key: string): Promise<string | undefined>;
  /** Reads and deletes in one step, so a single-use value can be used once, even across replicas. */
  take(key: string): Promise<string | undefined>;
  delete(...keys: string[]): Promise<void>;
  /** Adds a member to a set that lives for ttlSeconds (refresh-token families, user grants). */
  addToSet(key: string, member: string, ttlSeconds: number): Promise<void>;
  members(key: string): Promise<string[]>;
  /**
   * Adds a member to a bounded set in which each member has its own lifetime (a registration
   * cap, say). When the set already holds `limit` live members and `member` is not among them,
   * nothing changes and the answer is false. Re-adding a member replaces its lifetime. Checking
   * and adding are one atomic step, across replicas too.
   */
  addToBoundedSet(key: string, member: string, limit: number, ttlSeconds: number): Promise<boolean>;
  removeFromBoundedSet(key: string, member: string): Promise<void>;
  /** How many live members a bounded set holds. */
  boundedSetSize(key: string): Promise<number>;
  close(): Promise<void>;
}

/** The first leg of an upstream login: where to send the browser, and what to expect back. */
export interface UpstreamLoginRequest {
  readonly url: URL;
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

/** What a completed upstream login (or refresh) yields. Tokens stay server-side. */
export interface UpstreamTokens {
  /** Validated ID token claims (issuer, audience, nonce on login, expiry checked). */
  readonly claims: Readonly<Record<string, unknown>>;
  readonly idToken: string;
  /** Seconds since the epoch. */
  readonly idTokenExpiresAt: number;
  readonly refreshToken?: string;
}

/** Dex, Google or any OpenID provider, driven with openid-client. */
export interface UpstreamProvider {
  readonly issuer: string;
  startLogin(): Promise<UpstreamLoginRequest>;
  /** Completes the login from the full callback URL; refuses a wrong state, nonce or issuer. */
  finishLogin(callbackUrl: URL, expected: Omit<UpstreamLoginRequest, "url">): Promise<UpstreamTokens>;
  /** Exchanges an upstream refresh token for fresh tokens (the ID token custody refresh). */
  refresh(refreshToken: string): Promise<UpstreamTokens>;
}

/** How claims become a Kubernetes identity. */
export interface IdentityRules {
  /** Claim holding the Kubernetes username (default `email`). */
  readonly usernameClaim: string;
  /** Claim holding the groups (default `groups`; Google has none). */
  readonly groupsClaim: string;
  /** IdP group name → Kubernetes group names. Unmapped groups pass through unchanged. */
  readonly groupMappings: Readonly<Record<string, readonly string[]>>;
}
