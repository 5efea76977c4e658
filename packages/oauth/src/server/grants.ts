// Grants and their tokens. A grant is one user's sign-in for one client; its authorization code,
// access tokens and refresh tokens form one family, revoked together when a code or a refresh
// token is replayed. Access and refresh tokens are opaque random values kept by hash: revocable at
// once, and shared by every replica through the store.
import { GatewayError, type IdTokenCustody, isGatewayError } from "@capi-mcp/core";
import type { TokenStore, UpstreamProvider, UpstreamTokens } from "../contracts.js";
import { randomValue, verifyS256 } from "./crypto.js";
import {
  type AccessTokenRecord,
  type AuthorizationRequest,
  accessTokenSchema,
  codeSchema,
  type GrantRecord,
  grantSchema,
  type PrincipalRecord,
  principalFromRecord,
  principalToRecord,
  readRecord,
  refreshTokenSchema,
  storeKeys,
  type UpstreamCustody,
  writeRecord,
} from "./records.js";
import type { AuthorizationServerEvent, AuthorizationServerLifetimes, EventActor } from "./types.js";

/** Prefixes let secret scanners recognise a leaked token and tell the two kinds apart. */
export const accessTokenPrefix = "cmcp_at_";
export const refreshTokenPrefix = "cmcp_rt_";

/** ID tokens closer than this to expiry are renewed before being handed out. */
const custodyRefreshMarginSeconds = 60;

export interface IssuedTokens {
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
  readonly expiresIn: number;
  readonly scopes: readonly string[];
}

export type GrantOutcome =
  | { readonly ok: true; readonly tokens: IssuedTokens }
  | { readonly ok: false; readonly status: 400 | 503; readonly error: string; readonly description: string };

export type AccessCheck =
  | { readonly ok: true; readonly record: AccessTokenRecord; readonly grant: GrantRecord }
  | { readonly ok: false; readonly reason: string };

type Freshened =
  | { readonly ok: true; readonly grant: GrantRecord }
  | { readonly ok: false; readonly kind: "gone" | "refused" | "unavailable"; readonly reason: string };

export interface GrantServiceOptions {
  readonly store: TokenStore;
  readonly upstream: UpstreamProvider;
  readonly toPrincipal: (tokens: UpstreamTokens) => PrincipalRecord | Promise<PrincipalRecord>;
  readonly lifetimes: AuthorizationServerLifetimes;
  readonly resource: string;
  readonly now: () => number;
  readonly emit: (event: AuthorizationServerEvent) => void;
}

export interface RedeemCodeInput {
  readonly code: string;
  readonly clientId: string;
  readonly clientMayRefresh: boolean;
  readonly redirectUri: string;
  readonly codeVerifier: string;
}

export interface RefreshInput {
  readonly refreshToken: string;
  readonly clientId: string;
  readonly scopes: readonly string[] | undefined;
}

export interface GrantService {
  createGrant(request: AuthorizationRequest, principal: PrincipalRecord, upstream: UpstreamCustody): Promise<string>;
  redeemCode(input: RedeemCodeInput): Promise<GrantOutcome>;
  refresh(input: RefreshInput): Promise<GrantOutcome>;
  revokeToken(token: string, clientId: string, hint: string | undefined): Promise<void>;
  checkAccessToken(token: string): Promise<AccessCheck>;
  custody(grantId: string): IdTokenCustody;
  clear(): void;
}

export function actorOf(principal: PrincipalRecord): EventActor {
  return {
    subject: principal.subject,
    issuer: principal.issuer,
    username: principal.username,
    email: principal.email,
    groups: principal.groups,
  };
}

function invalidGrant(description: string): GrantOutcome {
  return { ok: false, status: 400, error: "invalid_grant", description };
}

export function createGrantService(options: GrantServiceOptions): GrantService {
  const { store, upstream, lifetimes, resource, now, emit } = options;
  const refreshing = new Map<string, Promise<Freshened>>();
  const time = () => new Date(now()).toISOString();
  const nowSeconds = () => Math.floor(now() / 1000);
  // Replays are detectable while the code's record lives; past an access token's life the
  // tokens a thief could have obtained from it have expired anyway.
  const codeRecordSeconds = Math.max(lifetimes.authorizationCodeSeconds, lifetimes.accessTokenSeconds);

  async function readLiveGrant(grantId: string): Promise<GrantRecord | undefined> {
    const [grant, revoked] = await Promise.all([
      readRecord(store, storeKeys.grant(grantId), grantSchema),
      store.get(storeKeys.grantRevoked(grantId)),
    ]);
    return revoked === undefined ? grant : undefined;
  }

  async function writeGrant(grant: GrantRecord): Promise<void> {
    await writeRecord(store, storeKeys.grant(grant.grantId), grant, (grant.expiresAt - now()) / 1000);
  }

  /** Revokes every token of a family. The marker stops a token written concurrently from being honoured. */
  async function revokeGrant(grantId: string): Promise<GrantRecord | undefined> {
    await store.set(storeKeys.grantRevoked(grantId), "revoked", lifetimes.refreshTokenSeconds);
    const grant = await readRecord(store, storeKeys.grant(grantId), grantSchema);
    const members = await store.members(storeKeys.grantMembers(grantId));
    await store.delete(...members, storeKeys.grant(grantId), storeKeys.grantMembers(grantId));
    return grant;
  }

  async function issueTokens(
    grant: GrantRecord,
    scopes: readonly string[],
    withRefresh: boolean,
  ): Promise<IssuedTokens> {
    const issuedAt = now();
    const accessToken = `${accessTokenPrefix}${randomValue(32)}`;
    const accessKey = storeKeys.accessToken(accessToken);
    const accessRecord: AccessTokenRecord = {
      grantId: grant.grantId,
      clientId: grant.clientId,
      scopes: [...scopes],
      audience: grant.resource,
      expiresAt: issuedAt + lifetimes.accessTokenSeconds * 1000,
    };
    const members = [accessKey];
    let refreshToken: string | undefined;
    let grantExpiresAt = Math.max(grant.expiresAt, accessRecord.expiresAt);
    await writeRecord(store, accessKey, accessRecord, lifetimes.accessTokenSeconds);
    if (withRefresh) {
      refreshToken = `${refreshTokenPrefix}${randomValue(32)}`;
      const expiresAt = issuedAt + lifetimes.refreshTokenSeconds * 1000;
      const refreshKey = storeKeys.refreshToken(refreshToken);
      const unusedKey = storeKeys.refreshTokenUnused(refreshToken);
      await writeRecord(
        store,
        refreshKey,
        { grantId: grant.grantId, clientId: grant.clientId, scopes: grant.scopes, expiresAt },
        lifetimes.refreshTokenSeconds,
      );
      await store.set(unusedKey, "unused", lifetimes.refreshTokenSeconds);
      members.push(refreshKey, unusedKey);
      grantExpiresAt = Math.max(grantExpiresAt, expiresAt);
    }
    const grantSeconds = (grantExpiresAt - issuedAt) / 1000;
    for (const member of members) {
      await store.addToSet(storeKeys.grantMembers(grant.grantId), member, grantSeconds);
    }
    await writeGrant({ ...grant, expiresAt: grantExpiresAt });
    return { accessToken, refreshToken, expiresIn: lifetimes.accessTokenSeconds, scopes };
  }

  /**
   * Makes sure the grant's upstream ID token stays valid for `minimumSeconds`, renewing it through
   * the provider otherwise. The renewed claims go through toPrincipal again, so a user refused
   * upstream or by the identity rules since sign-in loses the whole grant. One renewal per grant
   * at a time: concurrent callers share it (a second use of the upstream refresh token could
   * trip the provider's own reuse detection).
   */
  function freshen(grantId: string, minimumSeconds: number): Promise<Freshened> {
    const running = refreshing.get(grantId);
    if (running !== undefined) {
      return running;
    }
    const work = renew(grantId, minimumSeconds).finally(() => refreshing.delete(grantId));
    refreshing.set(grantId, work);
    return work;
  }

  async function renew(grantId: string, minimumSeconds: number): Promise<Freshened> {
    const grant = await readLiveGrant(grantId);
    if (grant === undefined) {
      return { ok: false, kind: "gone", reason: "The sign-in was revoked or has expired." };
    }
    const remaining = grant.upstream.idTokenExpiresAt - nowSeconds();
    if (remaining > minimumSeconds) {
      return { ok: true, grant };
    }
    const upstreamRefreshToken = grant.upstream.refreshToken;
    if (upstreamRefreshToken === undefined) {
      return remaining > 0
        ? { ok: true, grant }
        : { ok: false, kind: "refused", reason: "The identity provider's sign-in has expired and cannot be renewed." };
    }
    let tokens: UpstreamTokens;
    try {
      tokens = await upstream.refresh(upstreamRefreshToken);
    } catch (error) {
      if (isGatewayError(error) && (error.code === "unauthenticated" || error.code === "forbidden")) {
        await refuseGrant(grant, "The identity provider refused to renew the sign-in.");
        return { ok: false, kind: "refused", reason: "The identity provider refused to renew the sign-in." };
      }
      return {
        ok: false,
        kind: "unavailable",
        reason: "The identity provider could not be reached to renew the sign-in.",
      };
    }
    let principal: PrincipalRecord;
    try {
      principal = await options.toPrincipal(tokens);
    } catch (error) {
      if (isGatewayError(error) && (error.code === "unauthenticated" || error.code === "forbidden")) {
        await refuseGrant(grant, `The renewed identity was refused: ${error.message}`);
        return { ok: false, kind: "refused", reason: error.message };
      }
      return { ok: false, kind: "unavailable", reason: "The renewed identity could not be checked." };
    }
    if (principal.subject !== grant.principal.subject || principal.issuer !== grant.principal.issuer) {
      await refuseGrant(grant, "The identity provider answered the renewal for another user.");
      return { ok: false, kind: "refused", reason: "The identity provider answered the renewal for another user." };
    }
    const renewed: GrantRecord = {
      ...grant,
      principal: principalToRecord(principal),
      upstream: {
        idToken: tokens.idToken,
        idTokenExpiresAt: tokens.idTokenExpiresAt,
        refreshToken: tokens.refreshToken ?? upstreamRefreshToken,
      },
    };
    await writeGrant(renewed);
    return { ok: true, grant: renewed };
  }

  async function refuseGrant(grant: GrantRecord, reason: string): Promise<void> {
    await revokeGrant(grant.grantId);
    emit({
      type: "grant_revoked",
      time: time(),
      clientId: grant.clientId,
      grantId: grant.grantId,
      actor: actorOf(principalFromRecord(grant.principal)),
      reason,
    });
  }

  return {
    async createGrant(request, principal, upstreamCustody) {
      const grantId = randomValue(16);
      const code = randomValue(32);
      const createdAt = now();
      const grant: GrantRecord = {
        grantId,
        clientId: request.clientId,
        scopes: request.scopes,
        resource: request.resource,
        principal: principalToRecord(principal),
        upstream: upstreamCustody,
        createdAt,
        expiresAt: createdAt + codeRecordSeconds * 1000,
      };
      await writeGrant(grant);
      await writeRecord(
        store,
        storeKeys.code(code),
        {
          grantId,
          clientId: request.clientId,
          redirectUri: request.redirectUri,
          codeChallenge: request.codeChallenge,
          resource: request.resource,
          scopes: request.scopes,
          expiresAt: createdAt + lifetimes.authorizationCodeSeconds * 1000,
        },
        codeRecordSeconds,
      );
      // Redemption takes this marker; the record above stays to recognise a replay.
      await store.set(storeKeys.codeUnused(code), "unused", codeRecordSeconds);
      return code;
    },

    async redeemCode(input) {
      const record = await readRecord(store, storeKeys.code(input.code), codeSchema);
      if (record === undefined) {
        return invalidGrant("The authorization code is unknown or has expired.");
      }
      if (record.clientId !== input.clientId) {
        return invalidGrant("The authorization code was not issued to this client.");
      }
      const unused = await store.take(storeKeys.codeUnused(input.code));
      if (unused === undefined) {
        const grant = await revokeGrant(record.grantId);
        emit({
          type: "authorization_code_reuse_detected",
          time: time(),
          clientId: record.clientId,
          grantId: record.grantId,
          actor: grant === undefined ? undefined : actorOf(principalFromRecord(grant.principal)),
          familyRevoked: true,
        });
        return invalidGrant(
          "The authorization code was already used. Every token issued from it has been revoked; sign in again.",
        );
      }
      // From here on the code is spent: a failed check must not leave a grant behind.
      const failure = (description: string) => revokeGrant(record.grantId).then(() => invalidGrant(description));
      if (record.expiresAt <= now()) {
        return failure("The authorization code has expired; sign in again.");
      }
      if (record.redirectUri !== input.redirectUri) {
        return failure("redirect_uri does not match the one in the authorization request.");
      }
      if (!verifyS256(input.codeVerifier, record.codeChallenge)) {
        emit({ type: "pkce_verification_failed", time: time(), clientId: record.clientId, grantId: record.grantId });
        return failure("The PKCE code_verifier does not match the code_challenge.");
      }
      const grant = await readLiveGrant(record.grantId);
      if (grant === undefined) {
        return invalidGrant("The sign-in behind this authorization code was revoked or has expired.");
      }
      const tokens = await issueTokens(grant, record.scopes, input.clientMayRefresh);
      emit({
        type: "token_issued",
        time: time(),
        clientId: grant.clientId,
        actor: actorOf(principalFromRecord(grant.principal)),
        grantType: "authorization_code",
        grantId: grant.grantId,
        scopes: tokens.scopes,
        refreshTokenIssued: tokens.refreshToken !== undefined,
      });
      return { ok: true, tokens };
    },

    async refresh(input) {
      if (!input.refreshToken.startsWith(refreshTokenPrefix)) {
        return invalidGrant("The refresh token was not issued by this server.");
      }
      const record = await readRecord(store, storeKeys.refreshToken(input.refreshToken), refreshTokenSchema);
      if (record === undefined) {
        return invalidGrant("The refresh token is unknown, expired or revoked.");
      }
      if (record.clientId !== input.clientId) {
        return invalidGrant("The refresh token was not issued to this client.");
      }
      if (record.expiresAt <= now()) {
        return invalidGrant("The refresh token has expired; sign in again.");
      }
      const scopes = input.scopes ?? record.scopes;
      const extra = scopes.find((scope) => !record.scopes.includes(scope));
      if (extra !== undefined) {
        return { ok: false, status: 400, error: "invalid_scope", description: `The scope "${extra}" was not granted.` };
      }
      // Renew upstream before spending the refresh token, so an outage upstream leaves the client
      // a token to retry with instead of a reuse that would revoke the family.
      const freshened = await freshen(record.grantId, lifetimes.accessTokenSeconds);
      if (!freshened.ok) {
        if (freshened.kind === "unavailable") {
          return {
            ok: false,
            status: 503,
            error: "temporarily_unavailable",
            description: `${freshened.reason} Try again shortly.`,
          };
        }
        return invalidGrant(`${freshened.reason} Sign in again.`);
      }
      const unused = await store.take(storeKeys.refreshTokenUnused(input.refreshToken));
      if (unused === undefined) {
        const grant = await revokeGrant(record.grantId);
        emit({
          type: "refresh_token_reuse_detected",
          time: time(),
          clientId: record.clientId,
          grantId: record.grantId,
          actor: grant === undefined ? undefined : actorOf(principalFromRecord(grant.principal)),
          familyRevoked: true,
        });
        return invalidGrant(
          "The refresh token was already used. Every token from this sign-in has been revoked; sign in again.",
        );
      }
      const tokens = await issueTokens(freshened.grant, scopes, true);
      emit({
        type: "token_issued",
        time: time(),
        clientId: record.clientId,
        actor: actorOf(principalFromRecord(freshened.grant.principal)),
        grantType: "refresh_token",
        grantId: record.grantId,
        scopes: tokens.scopes,
        refreshTokenIssued: true,
      });
      return { ok: true, tokens };
    },

    async revokeToken(token, clientId, hint) {
      const tryAccess = async (): Promise<boolean> => {
        const key = storeKeys.accessToken(token);
        const record = await readRecord(store, key, accessTokenSchema);
        if (record === undefined || record.clientId !== clientId) {
          return false;
        }
        await store.delete(key);
        emit({
          type: "revocation",
          time: time(),
          clientId,
          tokenType: "access_token",
          grantId: record.grantId,
          familyRevoked: false,
        });
        return true;
      };
      const tryRefresh = async (): Promise<boolean> => {
        const record = await readRecord(store, storeKeys.refreshToken(token), refreshTokenSchema);
        if (record === undefined || record.clientId !== clientId) {
          return false;
        }
        await revokeGrant(record.grantId);
        emit({
          type: "revocation",
          time: time(),
          clientId,
          tokenType: "refresh_token",
          grantId: record.grantId,
          familyRevoked: true,
        });
        return true;
      };
      // The hint only orders the search (RFC 7009 §2.1).
      const order = hint === "refresh_token" ? [tryRefresh, tryAccess] : [tryAccess, tryRefresh];
      for (const attempt of order) {
        if (await attempt()) {
          return;
        }
      }
    },

    async checkAccessToken(token) {
      if (!token.startsWith(accessTokenPrefix)) {
        return { ok: false, reason: `The access token was not issued by this server for ${resource}.` };
      }
      const record = await readRecord(store, storeKeys.accessToken(token), accessTokenSchema);
      if (record === undefined) {
        return { ok: false, reason: "The access token is unknown, expired or revoked." };
      }
      if (record.expiresAt <= now()) {
        return { ok: false, reason: "The access token has expired." };
      }
      if (record.audience !== resource) {
        return { ok: false, reason: `The access token was issued for another resource, not ${resource}.` };
      }
      const grant = await readLiveGrant(record.grantId);
      if (grant === undefined) {
        return { ok: false, reason: "The sign-in behind the access token was revoked." };
      }
      return { ok: true, record, grant };
    },

    custody(grantId) {
      return {
        async currentIdToken() {
          const freshened = await freshen(grantId, custodyRefreshMarginSeconds);
          if (freshened.ok) {
            return freshened.grant.upstream.idToken;
          }
          if (freshened.kind === "unavailable") {
            throw new GatewayError("unavailable", `${freshened.reason} Try again shortly.`);
          }
          throw new GatewayError("unauthenticated", `${freshened.reason} Sign in again.`);
        },
      };
    },

    clear() {
      refreshing.clear();
    },
  };
}
