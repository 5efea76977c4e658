// OAuth clients: those registered here (RFC 7591) and those identified by a Client ID Metadata
// Document URL. Both resolve to one shape, so the endpoints do not care where a client came from.
import { z } from "zod";
import type { TokenStore } from "../contracts.js";
import { type ClientMetadataDocuments, isMetadataDocumentClientId } from "./client-metadata-document.js";
import { constantTimeEqual, randomValue, sha256 } from "./crypto.js";
import {
  type ClientRecord,
  clientRecordSchema,
  readRecord,
  storeKeys,
  type TokenEndpointAuthMethod,
  tokenEndpointAuthMethods,
  writeRecord,
} from "./records.js";
import { type RedirectUriRules, validateRedirectUri } from "./redirect-uri.js";

export interface ResolvedClient {
  readonly clientId: string;
  readonly clientName: string | undefined;
  readonly clientUri: string | undefined;
  readonly redirectUris: readonly string[];
  readonly grantTypes: readonly string[];
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  readonly clientSecretHash: string | undefined;
  /** Scopes the client registered for; undefined means any supported scope. */
  readonly scope: readonly string[] | undefined;
  readonly source: "registration" | "metadata_document";
}

export type ClientLookup =
  | { readonly ok: true; readonly client: ResolvedClient }
  | { readonly ok: false; readonly reason: string };

export type RegistrationResult =
  | { readonly ok: true; readonly client: ResolvedClient; readonly body: Record<string, unknown> }
  | {
      readonly ok: false;
      /** `temporarily_unavailable`: the registration cap is reached (RFC 6749 §4.1.2.1's code). */
      readonly error: "invalid_redirect_uri" | "invalid_client_metadata" | "temporarily_unavailable";
      readonly description: string;
    };

/** Client credentials as presented at the token or revocation endpoint. */
export interface PresentedClient {
  readonly clientId: string;
  readonly secret: string | undefined;
  readonly method: TokenEndpointAuthMethod;
}

export type ClientAuthentication =
  | { readonly ok: true; readonly client: ResolvedClient }
  | { readonly ok: false; readonly status: 400 | 401; readonly error: string; readonly description: string };

const registeredClientIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

const registrationSchema = z.object({
  redirect_uris: z.array(z.string().max(2000)).min(1).max(20),
  token_endpoint_auth_method: z.string().optional(),
  grant_types: z.array(z.string()).max(10).optional(),
  response_types: z.array(z.string()).max(10).optional(),
  client_name: z.string().trim().min(1).max(200).optional(),
  client_uri: z.string().max(2000).optional(),
  scope: z.string().max(1000).optional(),
  software_id: z.string().max(200).optional(),
  software_version: z.string().max(200).optional(),
});

export interface ClientRegistryOptions {
  readonly store: TokenStore;
  readonly metadataDocuments: ClientMetadataDocuments;
  readonly supportedScopes: readonly string[];
  /** How long a client is kept from its first completed sign-in. */
  readonly registrationSeconds: number;
  /** How long a client that has not completed a sign-in is kept. */
  readonly unusedRegistrationSeconds: number;
  /** Most registered clients held at once. */
  readonly maxRegisteredClients: number;
  readonly redirectUriRules: RedirectUriRules;
  readonly now: () => number;
}

export interface ClientRegistry {
  lookup(clientId: string): Promise<ClientLookup>;
  register(body: unknown): Promise<RegistrationResult>;
  /**
   * Notes that a sign-in through this client completed (tokens issued): a registered client is
   * from then on kept for the full registration lifetime. Once per client; a no-op for others.
   */
  recordSignIn(client: ResolvedClient): Promise<void>;
  authenticate(presented: PresentedClient): Promise<ClientAuthentication>;
}

function fromRecord(record: ClientRecord): ResolvedClient {
  return {
    clientId: record.clientId,
    clientName: record.clientName,
    clientUri: record.clientUri,
    redirectUris: record.redirectUris,
    grantTypes: record.grantTypes,
    tokenEndpointAuthMethod: record.tokenEndpointAuthMethod,
    clientSecretHash: record.clientSecretHash,
    scope: record.scope,
    source: "registration",
  };
}

export function createClientRegistry(options: ClientRegistryOptions): ClientRegistry {
  const { store, metadataDocuments, supportedScopes, registrationSeconds, redirectUriRules, now } = options;
  const { unusedRegistrationSeconds, maxRegisteredClients } = options;
  if (!Number.isSafeInteger(maxRegisteredClients) || maxRegisteredClients < 1) {
    throw new TypeError("The registered client cap must be a positive integer.");
  }
  // A client that has signed in holds its place for its whole lifetime, past the cap if need be:
  // the cap stops new registrations, never a client that is in use.
  const noLimit = Number.MAX_SAFE_INTEGER;

  async function lookup(clientId: string): Promise<ClientLookup> {
    if (isMetadataDocumentClientId(clientId)) {
      const result = await metadataDocuments.resolve(clientId);
      if (!result.ok) {
        return { ok: false, reason: `The client metadata document was refused: ${result.reason}.` };
      }
      const metadata = result.metadata;
      return {
        ok: true,
        client: {
          clientId,
          clientName: metadata.clientName,
          clientUri: metadata.clientUri,
          redirectUris: metadata.redirectUris,
          grantTypes: metadata.grantTypes,
          tokenEndpointAuthMethod: "none",
          clientSecretHash: undefined,
          scope: metadata.scope,
          source: "metadata_document",
        },
      };
    }
    if (!registeredClientIdPattern.test(clientId)) {
      return { ok: false, reason: "The client id is neither a registered client nor an https metadata document URL." };
    }
    const record = await readRecord(store, storeKeys.client(clientId), clientRecordSchema);
    if (record === undefined) {
      return { ok: false, reason: "The client is not registered here (or its registration has expired)." };
    }
    return { ok: true, client: fromRecord(record) };
  }

  async function register(body: unknown): Promise<RegistrationResult> {
    const parsed = registrationSchema.safeParse(body);
    if (!parsed.success) {
      const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join(".") || "(body)"))];
      const error = fields.some((field) => field.startsWith("redirect_uris"))
        ? "invalid_redirect_uri"
        : "invalid_client_metadata";
      return { ok: false, error, description: `Invalid or missing client metadata: ${fields.join(", ")}.` };
    }
    const metadata = parsed.data;
    for (const uri of metadata.redirect_uris) {
      const verdict = validateRedirectUri(uri, redirectUriRules);
      if (!verdict.valid) {
        return {
          ok: false,
          error: "invalid_redirect_uri",
          description: `The redirect URI ${JSON.stringify(uri)} ${verdict.reason}.`,
        };
      }
    }
    // RFC 7591 §2: the default method is client_secret_basic.
    const method = metadata.token_endpoint_auth_method ?? "client_secret_basic";
    if (!(tokenEndpointAuthMethods as readonly string[]).includes(method)) {
      return {
        ok: false,
        error: "invalid_client_metadata",
        description: `token_endpoint_auth_method must be one of ${tokenEndpointAuthMethods.join(", ")}.`,
      };
    }
    const grantTypes = metadata.grant_types ?? ["authorization_code"];
    const unsupportedGrant = grantTypes.find((type) => type !== "authorization_code" && type !== "refresh_token");
    if (unsupportedGrant !== undefined || !grantTypes.includes("authorization_code")) {
      return {
        ok: false,
        error: "invalid_client_metadata",
        description:
          "grant_types must include authorization_code and may add refresh_token; nothing else is supported.",
      };
    }
    const responseTypes = metadata.response_types ?? ["code"];
    if (responseTypes.length !== 1 || responseTypes[0] !== "code") {
      return { ok: false, error: "invalid_client_metadata", description: 'response_types must be ["code"].' };
    }
    const scope = metadata.scope?.split(" ").filter((value) => value !== "");
    const unknownScope = scope?.find((value) => !supportedScopes.includes(value));
    if (unknownScope !== undefined) {
      return {
        ok: false,
        error: "invalid_client_metadata",
        description: `The scope "${unknownScope}" is not supported.`,
      };
    }
    if (metadata.client_uri !== undefined && !/^https?:\/\//.test(metadata.client_uri)) {
      return { ok: false, error: "invalid_client_metadata", description: "client_uri must be an http or https URL." };
    }
    const clientId = randomValue(16);
    const member = sha256(clientId);
    // The place under the cap is taken before the record is written, so that concurrent
    // registrations (on any replica) can never hold more than the cap between them.
    if (
      !(await store.addToBoundedSet(
        storeKeys.registeredClients,
        member,
        maxRegisteredClients,
        unusedRegistrationSeconds,
      ))
    ) {
      return {
        ok: false,
        error: "temporarily_unavailable",
        description: `This gateway holds as many registered clients as it allows (${maxRegisteredClients}); try again later, or reuse an existing registration.`,
      };
    }
    const secret = method === "none" ? undefined : randomValue(32);
    const issuedAt = Math.floor(now() / 1000);
    const record: ClientRecord = {
      clientId,
      clientName: metadata.client_name,
      clientUri: metadata.client_uri,
      redirectUris: metadata.redirect_uris,
      grantTypes: [...new Set(grantTypes)],
      tokenEndpointAuthMethod: method as TokenEndpointAuthMethod,
      clientSecretHash: secret === undefined ? undefined : sha256(secret),
      scope,
      issuedAt,
    };
    try {
      await writeRecord(store, storeKeys.client(clientId), record, unusedRegistrationSeconds);
    } catch (error) {
      await store.removeFromBoundedSet(storeKeys.registeredClients, member).catch(() => undefined);
      throw error;
    }
    const responseBody: Record<string, unknown> = {
      client_id: clientId,
      client_id_issued_at: issuedAt,
      redirect_uris: record.redirectUris,
      token_endpoint_auth_method: record.tokenEndpointAuthMethod,
      grant_types: record.grantTypes,
      response_types: ["code"],
      ...(record.clientName === undefined ? {} : { client_name: record.clientName }),
      ...(record.clientUri === undefined ? {} : { client_uri: record.clientUri }),
      ...(scope === undefined ? {} : { scope: scope.join(" ") }),
      ...(metadata.software_id === undefined ? {} : { software_id: metadata.software_id }),
      ...(metadata.software_version === undefined ? {} : { software_version: metadata.software_version }),
    };
    if (secret !== undefined) {
      responseBody.client_secret = secret;
      // The secret lives as long as the registration record: the full lifetime once the client
      // has signed someone in (an unused registration is dropped earlier, secret and all).
      responseBody.client_secret_expires_at = issuedAt + registrationSeconds;
    }
    return { ok: true, client: fromRecord(record), body: responseBody };
  }

  async function authenticate(presented: PresentedClient): Promise<ClientAuthentication> {
    const found = await lookup(presented.clientId);
    if (!found.ok) {
      return { ok: false, status: 401, error: "invalid_client", description: found.reason };
    }
    const client = found.client;
    if (client.tokenEndpointAuthMethod === "none") {
      if (presented.secret !== undefined) {
        return {
          ok: false,
          status: 401,
          error: "invalid_client",
          description:
            "This client is registered as a public client (token_endpoint_auth_method none) and must not send a secret.",
        };
      }
      return { ok: true, client };
    }
    if (presented.method !== client.tokenEndpointAuthMethod || presented.secret === undefined) {
      return {
        ok: false,
        status: 401,
        error: "invalid_client",
        description: `This client must authenticate with ${client.tokenEndpointAuthMethod}.`,
      };
    }
    const expected = client.clientSecretHash ?? "";
    if (!constantTimeEqual(sha256(presented.secret), expected)) {
      return { ok: false, status: 401, error: "invalid_client", description: "The client secret is wrong." };
    }
    return { ok: true, client };
  }

  async function recordSignIn(client: ResolvedClient): Promise<void> {
    if (client.source !== "registration") {
      return;
    }
    const key = storeKeys.client(client.clientId);
    const record = await readRecord(store, key, clientRecordSchema);
    if (record === undefined || record.signedInAt !== undefined) {
      return;
    }
    await store.addToBoundedSet(storeKeys.registeredClients, sha256(client.clientId), noLimit, registrationSeconds);
    await writeRecord(store, key, { ...record, signedInAt: now() }, registrationSeconds);
  }

  return { lookup, register, authenticate, recordSignIn };
}

/**
 * Reads client credentials from `Authorization: Basic` or the form (RFC 6749 §2.3.1). Presenting
 * them both ways at once is refused, as the RFC requires a single method.
 */
export function readPresentedClient(
  authorization: string | undefined,
  form: { client_id?: string | undefined; client_secret?: string | undefined },
): { ok: true; presented: PresentedClient } | { ok: false; error: string; description: string; basic: boolean } {
  if (authorization !== undefined && /^basic\s/i.test(authorization)) {
    if (form.client_secret !== undefined) {
      return {
        ok: false,
        error: "invalid_request",
        description: "Use one client authentication method, not two.",
        basic: true,
      };
    }
    let decoded: string;
    try {
      decoded = Buffer.from(authorization.slice(6).trim(), "base64").toString("utf8");
    } catch {
      decoded = "";
    }
    const separator = decoded.indexOf(":");
    if (separator < 1) {
      return { ok: false, error: "invalid_client", description: "The Basic credentials are malformed.", basic: true };
    }
    let clientId: string;
    let secret: string;
    try {
      const formDecode = (value: string) => decodeURIComponent(value.replaceAll("+", " "));
      clientId = formDecode(decoded.slice(0, separator));
      secret = formDecode(decoded.slice(separator + 1));
    } catch {
      return { ok: false, error: "invalid_client", description: "The Basic credentials are malformed.", basic: true };
    }
    if (form.client_id !== undefined && form.client_id !== clientId) {
      return {
        ok: false,
        error: "invalid_request",
        description: "client_id differs from the Basic credentials.",
        basic: true,
      };
    }
    return { ok: true, presented: { clientId, secret, method: "client_secret_basic" } };
  }
  if (form.client_id === undefined) {
    return {
      ok: false,
      error: "invalid_client",
      description: "The client is not identified (client_id is missing).",
      basic: false,
    };
  }
  if (form.client_secret !== undefined) {
    return {
      ok: true,
      presented: { clientId: form.client_id, secret: form.client_secret, method: "client_secret_post" },
    };
  }
  return { ok: true, presented: { clientId: form.client_id, secret: undefined, method: "none" } };
}
