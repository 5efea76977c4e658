// Drives capi-mcp's OAuth 2.1 flow for tests: registers a client, lets the MCP SDK's client
// start the authorization, walks the upstream login and the gateway's consent page, and connects
// with the resulting tokens.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { type RedisServer, startRedisServer } from "../../packages/oauth/src/store/testing/redis-server.ts";
import { type FleetInfo, fleetOAuthArguments } from "../fleet/fleet.ts";
import { freePorts } from "../fleet/processes.ts";
import { type HttpGatewayProcess, startHttpGatewayProcess } from "./harness.ts";
import { TestOAuthClientProvider } from "./oauth-client.ts";
import { formsOf, type HtmlForm, type Page, UserAgent } from "./user-agent.ts";

export interface OAuthGateway extends HttpGatewayProcess {
  readonly baseUrl: string;
  readonly registrationToken: string;
}

/** capi-mcp with OAuth against the fleet's OpenID provider, on the port the provider's client names. */
export async function startOAuthGateway(
  info: FleetInfo,
  directory: string,
  options: {
    kubeAuth: "impersonation" | "sso-passthrough";
    extraArguments?: readonly string[];
    /** Default: the fleet's admin kubeconfig, context org-acme/dev. */
    kubeconfig?: string;
    context?: string;
    environment?: Readonly<Record<string, string>>;
  },
): Promise<OAuthGateway> {
  const registrationToken = randomBytes(24).toString("base64url");
  const tokenFile = path.join(directory, `registration-token-${randomBytes(3).toString("hex")}`);
  await writeFile(tokenFile, registrationToken, { mode: 0o600 });
  const baseUrl = `http://127.0.0.1:${info.gateway.port}`;
  const gateway = await startHttpGatewayProcess({
    kubeconfig: options.kubeconfig ?? info.kubeconfig,
    ...(options.kubeconfig
      ? options.context
        ? { context: options.context }
        : {}
      : { context: options.context ?? "org-acme/dev" }),
    port: info.gateway.port,
    ...(options.environment ? { environment: options.environment } : {}),
    extraArguments: [
      ...fleetOAuthArguments(info, baseUrl),
      "--registration-token-file",
      tokenFile,
      "--kube-auth",
      options.kubeAuth,
      ...(options.extraArguments ?? []),
    ],
  });
  return { ...gateway, baseUrl, registrationToken };
}

export interface RegisteredClient {
  readonly client_id: string;
  readonly redirect_uris: string[];
  readonly token_endpoint_auth_method: string;
}

export async function registerClient(gateway: OAuthGateway, redirectUri: string): Promise<RegisteredClient> {
  const response = await fetch(`${gateway.baseUrl}/oauth/register`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${gateway.registrationToken}` },
    body: JSON.stringify({
      client_name: "capi-mcp e2e client",
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    }),
  });
  if (response.status !== 201) throw new Error(`registration answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as RegisteredClient;
}

/** Answers the upstream login form as the user, and the gateway's consent page with `decision`. */
export function answerLoginPages(info: FleetInfo, userName: string, decision: "approve" | "deny" = "approve") {
  const user = info.users.find((candidate) => candidate.name === userName);
  if (!user) throw new Error(`no fleet user ${userName}`);
  return (page: Page): { form: HtmlForm; extra?: Record<string, string> } | undefined => {
    const [form] = formsOf(page);
    if (!form) return undefined;
    if ("login" in form.fields) return { form, extra: { login: user.email, password: user.password } };
    if ("consent_id" in form.fields) return { form, extra: { decision } };
    return undefined;
  };
}

export interface LoggedInClient {
  readonly client: Client;
  readonly provider: TestOAuthClientProvider;
  close(): Promise<void>;
}

/**
 * The whole flow as an MCP client lives it: connect, get 401, register or reuse the client, let
 * the user log in and consent (walked here without a browser), finish, reconnect with tokens.
 */
export async function loginThroughGateway(
  info: FleetInfo,
  gateway: OAuthGateway,
  userName: string,
  options: { walk?: (authorization: URL, redirectUri: string) => Promise<URL> } = {},
): Promise<LoggedInClient> {
  const [callbackPort] = await freePorts(1);
  const redirectUri = `http://127.0.0.1:${callbackPort}/callback`;
  const registered = await registerClient(gateway, redirectUri);
  const provider = new TestOAuthClientProvider({ redirectUrl: redirectUri, client: registered });
  const endpoint = new URL(gateway.endpoint);
  const first = new Client({ name: "capi-mcp-e2e", version: "1.0.0" });
  await first.connect(new StreamableHTTPClientTransport(endpoint, { authProvider: provider })).catch(() => undefined);
  const authorization = provider.pendingAuthorization;
  if (!authorization) throw new Error("the SDK client was not asked to authorize");
  const destination = options.walk
    ? await options.walk(authorization, redirectUri)
    : await walkWithoutBrowser(info, authorization, redirectUri, userName);
  const code = destination.searchParams.get("code");
  if (!code)
    throw new Error(
      `no code in ${destination.pathname}?${destination.searchParams.toString().replace(/code=[^&]+/, "code=…")}`,
    );
  const finishing = new StreamableHTTPClientTransport(endpoint, { authProvider: provider });
  await finishing.finishAuth(code);
  const client = new Client({ name: "capi-mcp-e2e", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(endpoint, { authProvider: provider }));
  return { client, provider, close: () => client.close() };
}

export async function walkWithoutBrowser(
  info: FleetInfo,
  authorization: URL,
  redirectUri: string,
  userName: string,
): Promise<URL> {
  const agent = new UserAgent({ certificateAuthorities: [await readFile(info.oidc.caFile, "utf8")] });
  try {
    const walked = await agent.walk(authorization, {
      isDestination: (url) => url.href.startsWith(redirectUri),
      onPage: answerLoginPages(info, userName),
    });
    if (!walked.destination) {
      throw new Error(
        `the login stopped at ${walked.page?.url.pathname} with ${walked.page?.status}: ${walked.page?.body.slice(0, 300)}`,
      );
    }
    return walked.destination;
  } finally {
    agent.close();
  }
}

/** A real redis-server, a generated token-encryption key and a scratch folder for gateways using them. */
export interface RedisTokenStore {
  readonly scratch: string;
  readonly redis: RedisServer;
  readonly keyFile: string;
  /** The gateway flags that select this store. */
  readonly gatewayArguments: readonly string[];
  stop(): Promise<void>;
}

export async function startRedisTokenStore(scratchPrefix: string): Promise<RedisTokenStore> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), scratchPrefix));
  const redis = await startRedisServer();
  const keyFile = path.join(scratch, "token-encryption.key");
  await writeFile(keyFile, randomBytes(32).toString("base64"), { mode: 0o600 });
  return {
    scratch,
    redis,
    keyFile,
    gatewayArguments: ["--token-store", "redis", "--redis-url", redis.url, "--token-encryption-key-file", keyFile],
    async stop() {
      await redis.stop();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

/** capi-mcp with OAuth and the Redis token store, acting by impersonation. */
export function startRedisOAuthGateway(
  info: FleetInfo,
  store: RedisTokenStore,
  extraArguments: readonly string[] = [],
): Promise<OAuthGateway> {
  return startOAuthGateway(info, store.scratch, {
    kubeAuth: "impersonation",
    extraArguments: [...store.gatewayArguments, ...extraArguments],
  });
}

/** A raw `initialize` POST to the gateway's MCP endpoint with a bearer token, as a client without the SDK sends it. */
export function initializeWithBearer(endpoint: string, accessToken: string, clientName: string): Promise<Response> {
  return fetch(endpoint, {
    method: "POST",
    headers: {
      authorization: `Bearer ${accessToken}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: clientName, version: "1" } },
    }),
  });
}
