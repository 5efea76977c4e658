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
} from "@capi-mcp/oauth";
import type { Context } from "hono";
import type { GatewayConfig } from "./config.js";

export interface OAuthSetup {
  readonly server: AuthorizationServer;
  readonly upstream: OpenIdUpstreamProvider;
  readonly store: TokenStore;
  close(): Promise<void>;
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

async function createStore(config: GatewayConfig): Promise<TokenStore> {
  let store: TokenStore;
  if (config.tokenStore === "redis") {
    const url = new URL(config.redisUrl ?? "");
    if (config.redisPasswordFile) url.password = readSecretFile(config.redisPasswordFile, "redis-password-file");
    store = await createRedisTokenStore({ url: url.href, keyPrefix: "capi-mcp:" });
  } else {
    store = createMemoryTokenStore();
  }
  if (config.tokenEncryptionKeyFile)
    store = createEncryptedTokenStore(store, loadTokenEncryptionKey(config.tokenEncryptionKeyFile));
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

/** The caller's address as the Node server saw it; no proxy header is trusted. */
function socketAddress(context: Context): string | undefined {
  const incoming = (context.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress;
}

export async function createOAuthSetup(config: GatewayConfig, audit: AuditSink): Promise<OAuthSetup> {
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
  const store = await createStore(config);
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
    },
    clientMetadataDocuments: { allowPrivateAddresses: false },
    scopes: ["mcp"],
    clientAddress: socketAddress,
    onEvent: (event) => audit.recordAuthorization(event),
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
