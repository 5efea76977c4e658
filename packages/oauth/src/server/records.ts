// What the authorization server keeps in the TokenStore, and under which keys. Every key that
// derives from a code, token, state or consent id holds its SHA-256, never the value itself.
// Values are parsed back with zod, so a damaged or foreign record reads as absent, never as a
// half-valid grant.
import type { Principal } from "@capi-mcp/core";
import { z } from "zod";
import type { TokenStore } from "../contracts.js";
import { sha256 } from "./crypto.js";

export type PrincipalRecord = Omit<Principal, "idTokenCustody">;

const principalSchema = z.object({
  subject: z.string(),
  issuer: z.string(),
  username: z.string(),
  email: z.string().nullable(),
  emailVerified: z.boolean(),
  groups: z.array(z.string()),
});

/** Copies only the known fields, so nothing extra a `toPrincipal` returns reaches the store. */
export function principalToRecord(principal: PrincipalRecord): z.infer<typeof principalSchema> {
  return {
    subject: principal.subject,
    issuer: principal.issuer,
    username: principal.username,
    email: principal.email ?? null,
    emailVerified: principal.emailVerified,
    groups: [...principal.groups],
  };
}

export function principalFromRecord(record: z.infer<typeof principalSchema>): PrincipalRecord {
  return { ...record, email: record.email ?? undefined };
}

export const tokenEndpointAuthMethods = ["none", "client_secret_basic", "client_secret_post"] as const;
export type TokenEndpointAuthMethod = (typeof tokenEndpointAuthMethods)[number];

export const clientRecordSchema = z.object({
  clientId: z.string(),
  clientName: z.string().optional(),
  clientUri: z.string().optional(),
  redirectUris: z.array(z.string()),
  grantTypes: z.array(z.string()),
  tokenEndpointAuthMethod: z.enum(tokenEndpointAuthMethods),
  clientSecretHash: z.string().optional(),
  scope: z.array(z.string()).optional(),
  issuedAt: z.number(),
  /** When a sign-in through this client first completed (ms); until then it is kept only briefly. */
  signedInAt: z.number().optional(),
});
export type ClientRecord = z.infer<typeof clientRecordSchema>;

/** The validated parts of an authorization request, carried from /authorize to the code. */
export const authorizationRequestSchema = z.object({
  clientId: z.string(),
  redirectUri: z.string(),
  codeChallenge: z.string(),
  resource: z.string(),
  scopes: z.array(z.string()),
  state: z.string().optional(),
});
export type AuthorizationRequest = z.infer<typeof authorizationRequestSchema>;

export const pendingLoginSchema = z.object({
  request: authorizationRequestSchema,
  upstream: z.object({ state: z.string(), nonce: z.string(), codeVerifier: z.string() }),
  /** SHA-256 of the login cookie set at /authorize: only that browser may complete the sign-in. */
  browserBindingHash: z.string(),
});
export type PendingLogin = z.infer<typeof pendingLoginSchema>;

/** The user's upstream tokens, kept server-side for ID token custody. */
export const upstreamCustodySchema = z.object({
  idToken: z.string(),
  idTokenExpiresAt: z.number(),
  refreshToken: z.string().optional(),
});
export type UpstreamCustody = z.infer<typeof upstreamCustodySchema>;

export const pendingConsentSchema = z.object({
  request: authorizationRequestSchema,
  principal: principalSchema,
  upstream: upstreamCustodySchema,
  csrfTokenHash: z.string(),
  browserBindingHash: z.string(),
});
export type PendingConsent = z.infer<typeof pendingConsentSchema>;

export const consentSchema = z.object({ givenAt: z.number(), scopes: z.array(z.string()) });

/** One sign-in of one user for one client: the family every code and token descends from. */
export const grantSchema = z.object({
  grantId: z.string(),
  clientId: z.string(),
  scopes: z.array(z.string()),
  resource: z.string(),
  principal: principalSchema,
  upstream: upstreamCustodySchema,
  createdAt: z.number(),
  /** When the grant's record expires (ms); renewed with each refresh-token rotation. */
  expiresAt: z.number(),
});
export type GrantRecord = z.infer<typeof grantSchema>;

export const codeSchema = z.object({
  grantId: z.string(),
  clientId: z.string(),
  redirectUri: z.string(),
  codeChallenge: z.string(),
  resource: z.string(),
  scopes: z.array(z.string()),
  expiresAt: z.number(),
});
export type CodeRecord = z.infer<typeof codeSchema>;

export const accessTokenSchema = z.object({
  grantId: z.string(),
  clientId: z.string(),
  scopes: z.array(z.string()),
  audience: z.string(),
  expiresAt: z.number(),
});
export type AccessTokenRecord = z.infer<typeof accessTokenSchema>;

export const refreshTokenSchema = z.object({
  grantId: z.string(),
  clientId: z.string(),
  scopes: z.array(z.string()),
  expiresAt: z.number(),
});
export type RefreshTokenRecord = z.infer<typeof refreshTokenSchema>;

const prefix = "authorization-server";

export const storeKeys = {
  client: (clientId: string) => `${prefix}:client:${sha256(clientId)}`,
  /** The bounded set of registered clients (members: client id hashes), which enforces the cap. */
  registeredClients: `${prefix}:registered-clients`,
  pendingLogin: (upstreamState: string) => `${prefix}:login:${sha256(upstreamState)}`,
  pendingConsent: (consentId: string) => `${prefix}:consent-request:${sha256(consentId)}`,
  consent: (principal: PrincipalRecord, clientId: string, redirectUri: string) =>
    `${prefix}:consent:${sha256(JSON.stringify([principal.issuer, principal.subject, clientId, redirectUri]))}`,
  grant: (grantId: string) => `${prefix}:grant:${grantId}`,
  grantRevoked: (grantId: string) => `${prefix}:grant-revoked:${grantId}`,
  grantMembers: (grantId: string) => `${prefix}:grant-members:${grantId}`,
  code: (code: string) => `${prefix}:code:${sha256(code)}`,
  codeUnused: (code: string) => `${prefix}:code-unused:${sha256(code)}`,
  accessToken: (token: string) => `${prefix}:access-token:${sha256(token)}`,
  refreshToken: (token: string) => `${prefix}:refresh-token:${sha256(token)}`,
  refreshTokenUnused: (token: string) => `${prefix}:refresh-token-unused:${sha256(token)}`,
};

export async function readRecord<Schema extends z.ZodType>(
  store: TokenStore,
  key: string,
  schema: Schema,
  take = false,
): Promise<z.infer<Schema> | undefined> {
  const value = take ? await store.take(key) : await store.get(key);
  if (value === undefined) {
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

export async function writeRecord(store: TokenStore, key: string, value: unknown, ttlSeconds: number): Promise<void> {
  await store.set(key, JSON.stringify(value), Math.max(1, Math.ceil(ttlSeconds)));
}
