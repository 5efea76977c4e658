// Logs a fleet user in at the fleet's OpenID provider the way a browser would: authorization
// request, login form, consent, redirect with a code, then the code exchange (with PKCE) at the
// token endpoint. Tests use it to get real ID tokens without a browser.
import { createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Agent, request } from "node:https";
import type { FleetInfo, FleetOidcClientInfo } from "./fleet.ts";

export interface TokenSet {
  readonly idToken: string;
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
  readonly expiresIn: number;
}

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function send(
  agent: Agent,
  url: URL,
  init: { method: string; headers?: Record<string, string>; body?: string },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      { method: init.method, headers: init.headers, agent, timeout: 10_000 },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
        incoming.on("end", () =>
          resolve({
            status: incoming.statusCode ?? 0,
            headers: incoming.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        incoming.on("error", reject);
      },
    );
    outgoing.on("timeout", () => outgoing.destroy(new Error(`${init.method} ${url.pathname} timed out`)));
    outgoing.on("error", reject);
    if (init.body) outgoing.write(init.body);
    outgoing.end();
  });
}

/** A cookie jar just large enough for one login: names and values, no paths or expiry. */
class CookieJar {
  readonly #cookies = new Map<string, string>();
  take(headers: RawResponse["headers"]): void {
    const setCookie = headers["set-cookie"];
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair = ""] = line.split(";");
      const index = pair.indexOf("=");
      if (index > 0) this.#cookies.set(pair.slice(0, index).trim(), pair.slice(index + 1).trim());
    }
  }
  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }
}

export interface LoginOptions {
  readonly client?: FleetOidcClientInfo;
  readonly scope?: string;
  /** Use a wrong password on purpose; the login then fails with the provider's answer. */
  readonly password?: string;
}

export class LoginFailedError extends Error {}

export async function loginAs(info: FleetInfo, userName: string, options: LoginOptions = {}): Promise<TokenSet> {
  if (!info.users.some((candidate) => candidate.name === userName)) throw new Error(`no fleet user ${userName}`);
  const client = options.client ?? info.oidc.gatewayClient;
  const clientSecret = (await readFile(client.clientSecretFile, "utf8")).trim();
  const verifier = randomBytes(32).toString("base64url");
  const state = randomBytes(16).toString("base64url");
  const authorize = new URL(`${info.oidc.issuer}/auth`);
  authorize.search = new URLSearchParams({
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    response_type: "code",
    scope: options.scope ?? "openid email groups profile offline_access",
    prompt: "consent",
    state,
    nonce: randomBytes(16).toString("base64url"),
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
  }).toString();
  const location = await completeLoginAt(
    info,
    authorize,
    userName,
    options.password ? { password: options.password } : {},
  );
  if (location.searchParams.get("state") !== state) throw new LoginFailedError("state mismatch on redirect");
  const error = location.searchParams.get("error");
  if (error) throw new LoginFailedError(`${error}: ${location.searchParams.get("error_description") ?? ""}`);
  const code = location.searchParams.get("code");
  if (!code) throw new LoginFailedError("redirect without a code");
  const agent = new Agent({ ca: await readFile(info.oidc.caFile, "utf8"), keepAlive: false });
  try {
    return await exchange(agent, info, client, clientSecret, code, verifier);
  } finally {
    agent.destroy();
  }
}

async function exchange(
  agent: Agent,
  info: FleetInfo,
  client: FleetOidcClientInfo,
  clientSecret: string,
  code: string,
  verifier: string,
): Promise<TokenSet> {
  const response = await send(agent, new URL(`${info.oidc.issuer}/token`), {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(clientSecret)}`).toString("base64")}`,
    },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: client.redirectUri,
      code_verifier: verifier,
    }).toString(),
  });
  if (response.status !== 200)
    throw new LoginFailedError(`token endpoint answered ${response.status}: ${response.body}`);
  const tokens = JSON.parse(response.body) as {
    id_token: string;
    access_token: string;
    refresh_token?: string;
    expires_in: number;
  };
  return {
    idToken: tokens.id_token,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    expiresIn: tokens.expires_in,
  };
}

/** The claims of a JWT, unverified: for assertions in tests only. */
export function jwtClaims(token: string): Record<string, unknown> {
  const [, payload = ""] = token.split(".");
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
}

/**
 * Follows an authorization URL built by someone else (the gateway's upstream provider), answers
 * the fleet's login form as `userName`, and returns the redirect to the client's redirect URI
 * (with `code` and `state`, or an `error`) without following it: the caller finishes the login.
 */
export async function completeLoginAt(
  info: FleetInfo,
  authorizationUrl: URL,
  userName: string,
  options: Pick<LoginOptions, "password"> = {},
): Promise<URL> {
  const user = info.users.find((candidate) => candidate.name === userName);
  if (!user) throw new Error(`no fleet user ${userName}`);
  const redirectUri = authorizationUrl.searchParams.get("redirect_uri");
  if (!redirectUri) throw new LoginFailedError("the authorization URL has no redirect_uri");
  const redirectTarget = new URL(redirectUri);
  const agent = new Agent({ ca: await readFile(info.oidc.caFile, "utf8"), keepAlive: false });
  const jar = new CookieJar();
  try {
    let next: URL = authorizationUrl;
    let method = "GET";
    let body: string | undefined;
    for (let step = 0; step < 12; step += 1) {
      const headers: Record<string, string> = { cookie: jar.header() };
      if (body !== undefined) headers["content-type"] = "application/x-www-form-urlencoded";
      const response = await send(agent, next, { method, headers, ...(body !== undefined ? { body } : {}) });
      jar.take(response.headers);
      method = "GET";
      body = undefined;
      if (response.status >= 300 && response.status < 400) {
        const location = new URL(String(response.headers.location), next);
        if (location.origin === redirectTarget.origin && location.pathname === redirectTarget.pathname) return location;
        next = location;
        continue;
      }
      const form = /<form method="post" action="([^"]+)"/.exec(response.body);
      if (response.status === 200 && form?.[1]) {
        next = new URL(
          form[1].replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))),
          next,
        );
        method = "POST";
        body = new URLSearchParams({ login: user.email, password: options.password ?? user.password }).toString();
        continue;
      }
      // The body is the provider's HTML page (a login error), never a token.
      throw new LoginFailedError(
        `login stopped at ${next.pathname} with status ${response.status}: ${response.body.slice(0, 200)}`,
      );
    }
    throw new LoginFailedError("too many redirects during login");
  } finally {
    agent.destroy();
  }
}
