// OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, MCP
// 2025-11-25): a client id that is an https URL names a JSON document describing the client.
// Fetching a URL chosen by an unknown party is a server-side request forgery risk, so the host
// is resolved here, every address is vetted, and the connection goes to the vetted address only
// (no second resolution an attacker's DNS could answer differently), with no redirects, a size
// limit and a time limit.
import type { LookupAddress } from "node:dns";
import { lookup } from "node:dns/promises";
import { isIP, type LookupFunction } from "node:net";
import { Agent, fetch as undiciFetch } from "undici";
import { z } from "zod";
import { classifyAddress } from "./address-policy.js";
import { type RedirectUriRules, validateRedirectUri } from "./redirect-uri.js";

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

export interface ClientMetadataDocumentOptions {
  /** Allows documents on loopback and private addresses. For tests only: it disables the SSRF guard. */
  readonly allowPrivateAddresses: boolean;
  /** Replaces the network fetch (tests). It receives the pinned `dispatcher` in its init. */
  readonly fetch?: typeof fetch;
  /** Replaces DNS resolution (tests). */
  readonly resolveHost?: (hostname: string) => Promise<readonly ResolvedAddress[]>;
  /** Largest document accepted, in bytes (default 5 KiB). */
  readonly maxBytes?: number;
  /** Time allowed for resolving, connecting and reading (default 5 s). */
  readonly timeoutMilliseconds?: number;
  /** Cache lifetime when the response carries no max-age (default 5 minutes). */
  readonly defaultCacheSeconds?: number;
  /** The redirect URI rules registered clients follow too (set by the authorization server). */
  readonly redirectUriRules?: RedirectUriRules;
}

/** What the authorization server keeps from a validated document. */
export interface ClientMetadata {
  readonly clientId: string;
  readonly clientName: string;
  readonly clientUri: string | undefined;
  readonly redirectUris: readonly string[];
  readonly grantTypes: readonly string[];
  readonly scope: readonly string[] | undefined;
}

export type ClientMetadataResult =
  | { readonly ok: true; readonly metadata: ClientMetadata }
  | { readonly ok: false; readonly reason: string };

export interface ClientMetadataDocuments {
  resolve(clientId: string): Promise<ClientMetadataResult>;
  clear(): void;
}

const minimumCacheSeconds = 60;
const maximumCacheSeconds = 24 * 60 * 60;
const maximumCachedDocuments = 1000;

const documentSchema = z.object({
  client_id: z.string(),
  client_name: z.string().trim().min(1).max(200),
  redirect_uris: z.array(z.string().max(2000)).min(1).max(20),
  client_uri: z.string().max(2000).optional(),
  grant_types: z.array(z.string()).max(10).optional(),
  response_types: z.array(z.string()).max(10).optional(),
  token_endpoint_auth_method: z.string().optional(),
  scope: z.string().max(1000).optional(),
});

/** Whether a client id is meant as a metadata document URL (as opposed to a registered id). */
export function isMetadataDocumentClientId(clientId: string): boolean {
  return clientId.startsWith("https://");
}

/** The draft's rules for the URL itself: https, a path, no fragment, no credentials, no dot segments. */
export function parseClientIdUrl(clientId: string): { ok: true; url: URL } | { ok: false; reason: string } {
  if (clientId.length > 2048) {
    return { ok: false, reason: "is longer than 2048 characters" };
  }
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return { ok: false, reason: "is not a URL" };
  }
  if (url.protocol !== "https:") {
    return { ok: false, reason: "must use https" };
  }
  if (clientId.includes("#")) {
    return { ok: false, reason: "must not contain a fragment" };
  }
  if (url.username !== "" || url.password !== "") {
    return { ok: false, reason: "must not contain a user name or password" };
  }
  if (url.pathname === "/" || url.pathname === "") {
    return { ok: false, reason: "must contain a path" };
  }
  // Dot segments, an upper-case host or a default port would make the URL fetched differ from
  // the client id compared with the document; the normal form must be what the client sent.
  if (url.href !== clientId) {
    return { ok: false, reason: `is not in normal form (expected ${url.href})` };
  }
  return { ok: true, url };
}

/** A lookup that always answers the vetted address, whatever host the connection asks for. */
export function pinnedLookup(target: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all === true) {
      callback(null, [{ address: target.address, family: target.family }]);
    } else {
      callback(null, target.address, target.family);
    }
  };
}

async function resolveWithDns(hostname: string): Promise<readonly ResolvedAddress[]> {
  const addresses: LookupAddress[] = await lookup(hostname, { all: true, order: "verbatim" });
  return addresses.map((entry) => ({ address: entry.address, family: entry.family === 6 ? 6 : 4 }));
}

function cacheSecondsFrom(cacheControl: string | null, fallback: number): number {
  const maxAge = cacheControl === null ? undefined : /(?:^|,)\s*max-age=(\d+)/i.exec(cacheControl)?.[1];
  const requested = maxAge === undefined ? fallback : Number(maxAge);
  // A floor keeps a document host from making the gateway fetch on every request.
  return Math.min(maximumCacheSeconds, Math.max(minimumCacheSeconds, requested));
}

async function readLimited(response: Response, maxBytes: number): Promise<string | undefined> {
  const reader = response.body?.getReader();
  if (reader === undefined) {
    return "";
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function validateDocument(clientId: string, body: string, redirectUriRules: RedirectUriRules): ClientMetadataResult {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: "the document is not valid JSON" };
  }
  const parsed = documentSchema.safeParse(json);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join(".") || "(document)"))];
    return { ok: false, reason: `the document is missing or has invalid fields: ${fields.join(", ")}` };
  }
  const document = parsed.data;
  if (document.client_id !== clientId) {
    return { ok: false, reason: "the document's client_id does not equal its URL" };
  }
  const method = document.token_endpoint_auth_method ?? "none";
  if (method !== "none") {
    // Shared secrets cannot be published in a public document, and private_key_jwt is not supported.
    return { ok: false, reason: `token_endpoint_auth_method "${method}" is not supported (only "none")` };
  }
  for (const uri of document.redirect_uris) {
    const verdict = validateRedirectUri(uri, redirectUriRules);
    if (!verdict.valid) {
      return { ok: false, reason: `redirect URI ${JSON.stringify(uri)} ${verdict.reason}` };
    }
  }
  const grantTypes = document.grant_types ?? ["authorization_code"];
  if (!grantTypes.includes("authorization_code")) {
    return { ok: false, reason: "grant_types must include authorization_code" };
  }
  if (document.response_types !== undefined && !document.response_types.includes("code")) {
    return { ok: false, reason: 'response_types must include "code"' };
  }
  return {
    ok: true,
    metadata: {
      clientId,
      clientName: document.client_name,
      clientUri: document.client_uri,
      redirectUris: document.redirect_uris,
      grantTypes: grantTypes.filter((type) => type === "authorization_code" || type === "refresh_token"),
      scope: document.scope?.split(" ").filter((scope) => scope !== ""),
    },
  };
}

export function createClientMetadataDocuments(
  options: ClientMetadataDocumentOptions,
  now: () => number,
): ClientMetadataDocuments {
  const maxBytes = options.maxBytes ?? 5 * 1024;
  const timeoutMilliseconds = options.timeoutMilliseconds ?? 5000;
  const defaultCacheSeconds = options.defaultCacheSeconds ?? 300;
  const resolveHost = options.resolveHost ?? resolveWithDns;
  const fetchFunction = options.fetch ?? (undiciFetch as unknown as typeof fetch);
  const cache = new Map<string, { metadata: ClientMetadata; expiresAt: number }>();
  const inFlight = new Map<string, Promise<ClientMetadataResult>>();

  async function vettedAddress(url: URL, signal: AbortSignal): Promise<ResolvedAddress | string> {
    const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    const literalFamily = isIP(hostname);
    let addresses: readonly ResolvedAddress[];
    if (literalFamily !== 0) {
      addresses = [{ address: hostname, family: literalFamily === 6 ? 6 : 4 }];
    } else {
      try {
        addresses = await Promise.race([
          resolveHost(hostname),
          new Promise<never>((_resolve, reject) => {
            signal.addEventListener("abort", () => reject(new Error("timed out")), { once: true });
          }),
        ]);
      } catch {
        return `the host ${hostname} could not be resolved`;
      }
    }
    const [first] = addresses;
    if (first === undefined) {
      return `the host ${hostname} has no address`;
    }
    if (!options.allowPrivateAddresses) {
      // Every address must pass: a mixed answer is how DNS tricks reach internal services.
      for (const entry of addresses) {
        const verdict = classifyAddress(entry.address);
        if (!verdict.allowed) {
          return `the host ${hostname} resolves to a ${verdict.reason} (${entry.address}), which is not fetched`;
        }
      }
    }
    return first;
  }

  async function fetchAndValidate(clientId: string, url: URL): Promise<ClientMetadataResult> {
    const signal = AbortSignal.timeout(timeoutMilliseconds);
    const target = await vettedAddress(url, signal);
    if (typeof target === "string") {
      return { ok: false, reason: target };
    }
    const agent = new Agent({ connect: { lookup: pinnedLookup(target), timeout: timeoutMilliseconds } });
    try {
      const init = {
        method: "GET",
        redirect: "manual",
        signal,
        headers: { accept: "application/json" },
        dispatcher: agent,
      } as RequestInit;
      let response: Response;
      try {
        response = await fetchFunction(url.href, init);
      } catch {
        return {
          ok: false,
          reason: signal.aborted ? "the document took too long to fetch" : "the document could not be fetched",
        };
      }
      if (response.status >= 300 && response.status < 400) {
        await response.body?.cancel();
        return { ok: false, reason: "the document URL answered with a redirect, which is not followed" };
      }
      if (response.status !== 200) {
        await response.body?.cancel();
        return { ok: false, reason: `the document URL answered with status ${response.status}` };
      }
      const contentType = response.headers.get("content-type") ?? "";
      if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(contentType)) {
        await response.body?.cancel();
        return { ok: false, reason: "the document is not served as application/json" };
      }
      const declaredLength = Number(response.headers.get("content-length") ?? "0");
      if (declaredLength > maxBytes) {
        await response.body?.cancel();
        return { ok: false, reason: `the document is larger than ${maxBytes} bytes` };
      }
      let body: string | undefined;
      try {
        body = await readLimited(response, maxBytes);
      } catch {
        return {
          ok: false,
          reason: signal.aborted ? "the document took too long to fetch" : "the document could not be read",
        };
      }
      if (body === undefined) {
        return { ok: false, reason: `the document is larger than ${maxBytes} bytes` };
      }
      const result = validateDocument(clientId, body, options.redirectUriRules ?? {});
      if (result.ok) {
        const seconds = cacheSecondsFrom(response.headers.get("cache-control"), defaultCacheSeconds);
        if (cache.size >= maximumCachedDocuments) {
          const oldest = cache.keys().next().value;
          if (oldest !== undefined) {
            cache.delete(oldest);
          }
        }
        cache.set(clientId, { metadata: result.metadata, expiresAt: now() + seconds * 1000 });
      }
      return result;
    } finally {
      await agent.destroy().catch(() => undefined);
    }
  }

  return {
    async resolve(clientId) {
      const parsed = parseClientIdUrl(clientId);
      if (!parsed.ok) {
        return { ok: false, reason: `the client id URL ${parsed.reason}` };
      }
      const cached = cache.get(clientId);
      if (cached !== undefined && cached.expiresAt > now()) {
        return { ok: true, metadata: cached.metadata };
      }
      cache.delete(clientId);
      // Concurrent requests for one document share one fetch.
      let pending = inFlight.get(clientId);
      if (pending === undefined) {
        pending = fetchAndValidate(clientId, parsed.url).finally(() => inFlight.delete(clientId));
        inFlight.set(clientId, pending);
      }
      return pending;
    },
    clear() {
      cache.clear();
    },
  };
}
