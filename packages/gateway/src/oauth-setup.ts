// Builds the OAuth side of the gateway from configuration: the token store, the upstream
// provider, the identity rules and the authorization server. Secrets are read from files here,
// and only here.
import { readFileSync } from "node:fs";
import type { AuditSink } from "@capi-mcp/core";
import { GatewayError } from "@capi-mcp/core";
import {
  type AuthorizationServer,
  createAuthorizationServer,
  createEncryptedTokenStore,
  createMemoryTokenStore,
  createRedisTokenStore,
  createUpstreamProvider,
  type IdentityRules,
  loadGroupMappings,
  loadTokenEncryptionKey,
  type OpenIdUpstreamProvider,
  principalFromClaims,
  type TokenStore,
  type TokenStoreTamperEvent,
} from "@capi-mcp/oauth";
import { createOAuthMetrics, type OAuthMetrics } from "@capi-mcp/telemetry";
import type { Logger } from "pino";
import { createClientAddressResolver, peerAddressOf } from "./client-address.js";
import type { GatewayConfig } from "./config.js";
import { createOAuthReports } from "./oauth-reports.js";

export interface OAuthSetup {
  readonly server: AuthorizationServer;
  readonly upstream: OpenIdUpstreamProvider;
  readonly store: TokenStore;
  close(): Promise<void>;
}

/** Where the OAuth side reports what only an operator should see: the log and the metrics. */
export interface OAuthObservers {
  readonly logger: Logger;
  /** Default: instruments on the global OpenTelemetry meter. */
  readonly metrics?: OAuthMetrics;
}

function readSecretFile(file: string, flag: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new GatewayError("invalid_input", `--${flag}: cannot read ${file} (${reason}).`);
  }
  const secret = text.trim();
  if (secret.length === 0) throw new GatewayError("invalid_input", `--${flag}: ${file} is empty.`);
  return secret;
}

/** What the memory store holds for sign-ins, codes, tokens and consents, registrations aside. */
const memoryStoreEntries = 50_000;

async function createStore(
  config: GatewayConfig,
  onTamper: (event: TokenStoreTamperEvent) => void,
): Promise<TokenStore> {
  let store: TokenStore;
  if (config.tokenStore === "redis") {
    const url = new URL(config.redisUrl ?? "");
    if (config.redisPasswordFile) url.password = readSecretFile(config.redisPasswordFile, "redis-password-file");
    store = await createRedisTokenStore({ url: url.href, keyPrefix: "capi-mcp:" });
  } else {
    // Room for every registration the cap allows (a record and a place each) on top of the
    // store's own bound, so registrations can never crowd out sign-in and refresh state.
    store = createMemoryTokenStore({ maxEntries: memoryStoreEntries + 2 * config.maxRegisteredClients });
  }
  if (config.tokenEncryptionKeyFile)
    store = createEncryptedTokenStore(store, loadTokenEncryptionKey(config.tokenEncryptionKeyFile), { onTamper });
  return store;
}

function upstreamSettings(config: GatewayConfig): {
  kind: "dex" | "google" | "oidc";
  issuerUrl?: string;
  clientId: string;
  clientSecret: string;
  caFile?: string;
  connectorId?: string;
  kubernetesAudience?: string;
} {
  switch (config.oauthProvider) {
    case "dex":
      return {
        kind: "dex",
        issuerUrl: config.dexIssuerUrl ?? "",
        clientId: config.dexClientId ?? "",
        clientSecret: readSecretFile(config.dexClientSecretFile ?? "", "dex-client-secret-file"),
        ...(config.oidcCaFile ? { caFile: config.oidcCaFile } : {}),
        ...(config.dexConnectorId ? { connectorId: config.dexConnectorId } : {}),
        ...(config.dexKubernetesAudience ? { kubernetesAudience: config.dexKubernetesAudience } : {}),
      };
    case "google":
      return {
        kind: "google",
        clientId: config.googleClientId ?? "",
        clientSecret: readSecretFile(config.googleClientSecretFile ?? "", "google-client-secret-file"),
      };
    case "oidc":
      return {
        kind: "oidc",
        issuerUrl: config.oidcIssuerUrl ?? "",
        clientId: config.oidcClientId ?? "",
        clientSecret: readSecretFile(config.oidcClientSecretFile ?? "", "oidc-client-secret-file"),
        ...(config.oidcCaFile ? { caFile: config.oidcCaFile } : {}),
      };
    default:
      throw new GatewayError("invalid_input", "--oauth-provider: expected dex, google or oidc.");
  }
}

export async function createOAuthSetup(
  config: GatewayConfig,
  audit: AuditSink,
  observers: OAuthObservers,
): Promise<OAuthSetup> {
  const { logger } = observers;
  const metrics = observers.metrics ?? createOAuthMetrics();
  const baseUrl = new URL(config.oauthBaseUrl ?? "").origin;
  const registrationToken = config.registrationTokenFile
    ? readSecretFile(config.registrationTokenFile, "registration-token-file")
    : undefined;
  const rules: IdentityRules = {
    usernameClaim: config.usernameClaim,
    groupsClaim: config.groupsClaim,
    groupMappings: config.groupMappingsFile ? await loadGroupMappings(config.groupMappingsFile) : {},
  };
  const settings = upstreamSettings(config);
  const reports = createOAuthReports({ logger, metrics, maxRegisteredClients: config.maxRegisteredClients });
  const store = await createStore(config, (event) => reports.decryptionFailed(event));
  const resolveClientAddress = createClientAddressResolver({
    trustedProxies: config.trustedProxies,
    header: config.clientAddressHeader,
  });
  let upstream: OpenIdUpstreamProvider;
  try {
    upstream = await createUpstreamProvider({
      ...settings,
      redirectUri: `${baseUrl}/oauth/callback`,
      ...(config.oauthScopes ? { scopes: config.oauthScopes } : {}),
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  const server = createAuthorizationServer({
    baseUrl,
    resourcePath: config.httpEndpoint,
    store,
    upstream,
    toPrincipal: (tokens) => principalFromClaims(tokens.claims, { issuer: upstream.issuer, rules }),
    registration: {
      ...(registrationToken ? { accessToken: registrationToken } : {}),
      allowPublic: config.allowPublicRegistration,
      maxClients: config.maxRegisteredClients,
    },
    lifetimes: { unusedClientRegistrationSeconds: config.unusedClientLifetime / 1000 },
    clientMetadataDocuments: { allowPrivateAddresses: false },
    redirectUris: { allowPrivateUseSchemes: config.allowPrivateUseRedirectSchemes },
    scopes: ["mcp"],
    clientAddress: (context) => resolveClientAddress(peerAddressOf(context), context.req.raw.headers),
    onEvent: (event) => {
      audit.recordAuthorization(event);
      reports.authorizationEvent(event);
    },
    onUnexpectedError: (error) => reports.unexpectedError(error),
  });
  return {
    server,
    upstream,
    store,
    async close() {
      await server.close();
      await upstream.close();
      await store.close();
    },
  };
}
