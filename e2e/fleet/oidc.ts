// The fleet's OpenID provider: a real one (oidc-provider, the certified implementation), served
// over HTTPS on loopback, with a password login page like Dex's. Workload API servers trust its
// ID tokens (`--oidc-issuer-url`), and the gateway logs users in against it.
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import { Provider } from "oidc-provider";

export interface OidcUser {
  readonly name: string;
  readonly email: string;
  readonly emailVerified: boolean;
  readonly groups: readonly string[];
  readonly password: string;
}

export interface OidcClient {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUris: readonly string[];
}

export interface OidcProviderOptions {
  readonly issuer: string;
  readonly port: number;
  readonly tlsCertPem: string;
  readonly tlsKeyPem: string;
  /** A private JWK (RSA) used to sign ID tokens with RS256, the algorithm kube-apiserver expects. */
  readonly signingJwk: Record<string, unknown>;
  readonly cookieKey: string;
  readonly clients: readonly OidcClient[];
  readonly users: readonly OidcUser[];
  readonly idTokenTtlSeconds?: number;
}

function sameSecret(left: string, right: string): boolean {
  const a = Buffer.from(left);
  const b = Buffer.from(right);
  return a.length === b.length && timingSafeEqual(a, b);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function loginPage(uid: string, clientId: string, error?: string): string {
  const message = error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in to the fleet</title></head>
<body>
<h1>Log in to the fleet</h1>
<p>Application <code>${escapeHtml(clientId)}</code> asks you to log in.</p>
${message}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
  <label>Email or name <input name="login" autocomplete="username" required autofocus></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">Log in</button>
</form>
</body></html>`;
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 16_384) throw new Error("form too large");
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

export function createOidcProvider(options: OidcProviderOptions): Provider {
  const usersBySubject = new Map(options.users.map((user) => [user.name, user]));
  return new Provider(options.issuer, {
    clients: options.clients.map((client) => ({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      redirect_uris: [...client.redirectUris],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    })),
    jwks: { keys: [options.signingJwk] },
    cookies: { keys: [options.cookieKey] },
    claims: {
      openid: ["sub"],
      email: ["email", "email_verified"],
      groups: ["groups"],
      profile: ["name"],
    },
    scopes: ["openid", "offline_access", "email", "groups", "profile"],
    // Put the scope's claims into the ID token itself, as Dex does: kube-apiserver reads
    // `email` and `groups` from the ID token and never calls userinfo.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false }, revocation: { enabled: true } },
    ttl: {
      IdToken: options.idTokenTtlSeconds ?? 3600,
      AccessToken: options.idTokenTtlSeconds ?? 3600,
      AuthorizationCode: 60,
      RefreshToken: 86_400,
      Grant: 86_400,
      Interaction: 600,
      Session: 86_400,
    },
    interactions: { url: (_context, interaction) => `/interaction/${interaction.uid}` },
    issueRefreshToken: async (_context, client, code) =>
      client.grantTypeAllowed("refresh_token") && code.scopes.has("offline_access"),
    async findAccount(_context, subject) {
      const user = usersBySubject.get(subject);
      if (!user) return undefined;
      return {
        accountId: subject,
        async claims() {
          return {
            sub: subject,
            name: user.name,
            email: user.email,
            email_verified: user.emailVerified,
            groups: [...user.groups],
          };
        },
      };
    },
  });
}

/** Handles the login and consent interactions; everything else goes to the provider. */
function createHandler(provider: Provider, options: OidcProviderOptions) {
  const providerCallback = provider.callback();
  const findUser = (login: string) =>
    options.users.find((user) => user.name === login || user.email.toLowerCase() === login.toLowerCase());

  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? "/", options.issuer);
    const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(url.pathname);
    if (!match) {
      providerCallback(request, response);
      return;
    }
    try {
      const details = await provider.interactionDetails(request, response);
      const clientId = String(details.params.client_id ?? "");
      if (details.prompt.name === "login") {
        if (request.method === "POST" && match[2]) {
          const form = await readForm(request);
          const user = findUser(form.get("login") ?? "");
          if (!user || !sameSecret(user.password, form.get("password") ?? "")) {
            response.writeHead(401, { "content-type": "text/html; charset=utf-8" });
            response.end(loginPage(details.uid, clientId, "Invalid email or password."));
            return;
          }
          await provider.interactionFinished(
            request,
            response,
            { login: { accountId: user.name } },
            { mergeWithLastSubmission: false },
          );
          return;
        }
        response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        response.end(loginPage(details.uid, clientId));
        return;
      }
      if (details.prompt.name === "consent") {
        // The fleet's clients are first-party: grant what was asked, as Dex does for
        // `skipApprovalScreen`. The gateway's own consent step is a separate matter.
        const accountId = details.session?.accountId;
        if (!accountId) throw new Error("consent without a logged-in session");
        const grant = details.grantId
          ? await provider.Grant.find(details.grantId)
          : new provider.Grant({ accountId, clientId });
        if (!grant) throw new Error("grant not found");
        const missing = details.prompt.details as {
          missingOIDCScope?: string[];
          missingOIDCClaims?: string[];
          missingResourceScopes?: Record<string, string[]>;
        };
        if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
        if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
        for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
          grant.addResourceScope(indicator, scopes.join(" "));
        }
        const grantId = await grant.save();
        await provider.interactionFinished(
          request,
          response,
          { consent: { grantId } },
          { mergeWithLastSubmission: true },
        );
        return;
      }
      response.writeHead(400, { "content-type": "text/plain" });
      response.end(`unsupported interaction prompt ${details.prompt.name}`);
    } catch (error) {
      if (!response.headersSent) {
        response.writeHead(400, { "content-type": "text/plain" });
      }
      response.end(`interaction failed: ${error instanceof Error ? error.message : "unknown error"}`);
    }
  };
}

export async function startOidcProvider(options: OidcProviderOptions): Promise<Server> {
  const provider = createOidcProvider(options);
  const server = createServer({ cert: options.tlsCertPem, key: options.tlsKeyPem }, createHandler(provider, options));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => resolve());
  });
  return server;
}
