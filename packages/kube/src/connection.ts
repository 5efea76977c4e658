import { GatewayError } from "@capi-mcp/core";
import type { KubeConfig } from "@kubernetes/client-node";
import { Agent } from "undici";
import type WebSocket from "ws";
import { createDiscoveryCache, type DiscoveryCache, fetchDiscovery } from "./discovery-cache.js";
import { type HeaderValues, type Impersonation, identityTerms, impersonationHeaders } from "./impersonation.js";
import {
  clusterTls,
  kubeConfigUserCredentials,
  scopedKubeConfig,
  type TlsMaterial,
  type UserCredentials,
} from "./kubeconfig-credentials.js";
import { createRateLimiter, type RateLimiter } from "./rate-limiter.js";
import { requestShape, startRequestTelemetry } from "./request-telemetry.js";
import { KubeHttpError, KubeTransportError, maximumErrorBodyBytes, transportErrorFrom } from "./transport-error.js";
import { openWebSocket } from "./web-socket.js";

/** Whose identity the connection's calls carry, beyond what the kubeconfig user is. */
export interface KubeIdentity {
  /** Send `Impersonate-*` headers: the kubeconfig user acts as this identity (and needs the right to). */
  readonly impersonate?: Impersonation;
  /**
   * Authenticate with this bearer token (for example a user's ID token) instead of the kubeconfig
   * user's credentials. The kubeconfig user's client certificate is then not presented, because
   * the API server would authenticate the certificate and ignore the token.
   */
  readonly bearerToken?: string;
}

export interface KubeConnectionOptions {
  /** Loaded by the caller (kubeconfig file, in-cluster, generated); never read from the environment here. */
  readonly kubeConfig: KubeConfig;
  /** The kubeconfig context to use; defaults to the kubeconfig's current context. */
  readonly context?: string;
  readonly identity?: KubeIdentity;
  /** Sustained requests per second to this API server (default 20). */
  readonly qps?: number;
  /** Requests allowed at once after a quiet period (default 30). */
  readonly burst?: number;
  /** Upper bound on establishing a TCP + TLS connection or WebSocket handshake (default 10 s). */
  readonly connectTimeoutMilliseconds?: number;
  /** Upper bound on one REST request, from sending to the last byte of the answer (default 30 s). */
  readonly requestTimeoutMilliseconds?: number;
  /** How long discovery stays cached (default 5 min). */
  readonly discoveryTtlMilliseconds?: number;
  /** Answers larger than this fail with `too_large` rather than filling memory (default 64 MiB). */
  readonly maxResponseBytes?: number;
  /** Parallel connections to the API server (default 16). */
  readonly maxConnections?: number;
  readonly userAgent?: string;
  /** The cluster's name in spans and audit notes (a workload cluster's `namespace/name`); default: the context. */
  readonly clusterName?: string;
}

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface KubeHttpRequest {
  readonly method: HttpMethod;
  /** An API path, its segments already encoded (`/api/v1/namespaces/web/pods`). */
  readonly path: string;
  readonly query?: URLSearchParams;
  /** Sent as JSON unless it is already a string. */
  readonly body?: unknown;
  readonly contentType?: string;
  readonly accept?: string;
  /** Cut the answer after this many bytes and report `truncated`, instead of failing on size. */
  readonly truncateAfterBytes?: number;
  readonly timeoutMilliseconds?: number;
  readonly signal?: AbortSignal;
  /**
   * Skip the rate limiter: only for requests that belong to one already-limited operation
   * (the fan-out of one discovery pass).
   */
  readonly alreadyLimited?: boolean;
}

export interface KubeHttpResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
  readonly truncated: boolean;
}

/** A long-lived GET (a watch) whose answer is read as it arrives. */
export interface KubeStreamRequest {
  /** An API path, its segments already encoded. */
  readonly path: string;
  readonly query?: URLSearchParams;
  readonly accept?: string;
  /** Upper bound on waiting for the answer's headers (default: the connection's request timeout). */
  readonly headersTimeoutMilliseconds?: number;
  /** Fails the stream when no byte arrives for this long (default: no bound; the caller's signal ends it). */
  readonly idleTimeoutMilliseconds?: number;
  readonly signal?: AbortSignal;
}

export interface KubeStreamResponse {
  readonly contentType: string;
  /** The answer's bytes as they arrive; a failure while reading is a `KubeTransportError`. */
  readonly body: AsyncIterable<Uint8Array>;
  /** Stops reading and releases the connection. */
  close(): void;
}

/**
 * One Kubernetes API server, reached as one identity: TLS material and headers resolved once,
 * one keep-alive undici `Agent` reused by every request, one rate limiter. Create one per
 * (cluster, identity) and `close()` it when that client is evicted.
 */
export interface KubeConnection {
  /** The kubeconfig context this connection was made from. */
  readonly context: string;
  /** The API server URL (no credentials in it). */
  readonly server: string;
  /** Names of the impersonated identity, for scrubbing server text. Empty without impersonation. */
  readonly identityTerms: readonly string[];
  readonly limiter: RateLimiter;
  /** Discovery, cached for this connection with the configured TTL. */
  readonly discovery: DiscoveryCache;
  /** Sends one request; resolves for 2xx, throws `KubeHttpError` or `KubeTransportError` otherwise. */
  request(request: KubeHttpRequest): Promise<KubeHttpResponse>;
  /**
   * Opens a streaming GET through the same agent, credentials and rate limiter (one token per
   * opening). Resolves once a 2xx answer's headers arrive; throws `KubeHttpError` or
   * `KubeTransportError` otherwise. The body has no overall time limit: bound it with the signal.
   */
  stream(request: KubeStreamRequest): Promise<KubeStreamResponse>;
  /**
   * Starts a WebSocket to an API path (exec, port-forward) with the same TLS and headers. Returns
   * before the handshake so listeners can be attached first; await `whenOpen` for the outcome.
   */
  webSocket(
    path: string,
    query: URLSearchParams,
    protocols: readonly string[],
    signal?: AbortSignal,
  ): Promise<WebSocket>;
  /** Closes the agent's pooled connections. */
  close(): Promise<void>;
}

const defaultQps = 20;
const defaultBurst = 30;
const defaultConnectTimeout = 10_000;
const defaultRequestTimeout = 30_000;
const defaultDiscoveryTtl = 5 * 60_000;
const defaultMaxResponseBytes = 64 * 1024 * 1024;

/**
 * Builds a connection without any I/O: configuration errors (unknown context, proxy, plain http)
 * throw here; credentials (CA file, exec plugin, token file) and the agent are set up on first
 * use, and a failure there is retried on the next call rather than remembered.
 */
export function createKubeConnection(options: KubeConnectionOptions): KubeConnection {
  const context = options.context ?? options.kubeConfig.getCurrentContext();
  if (!context || !options.kubeConfig.getContextObject(context)) {
    throw new GatewayError("invalid_input", `The kubeconfig has no context "${context ?? ""}".`);
  }
  const scoped = scopedKubeConfig(options.kubeConfig, context);
  const cluster = scoped.getCurrentCluster();
  if (!cluster) throw new GatewayError("invalid_input", `The kubeconfig context "${context}" names no known cluster.`);
  if (cluster.proxyUrl) {
    throw new GatewayError(
      "invalid_input",
      `The kubeconfig context "${context}" sets a proxy-url, which this gateway does not support yet.`,
    );
  }
  const serverUrl = new URL(cluster.server);
  if (serverUrl.protocol !== "https:") {
    throw new GatewayError("invalid_input", `The cluster of context "${context}" is not served over https.`);
  }
  // A server URL may carry a path prefix (a proxying front end); every API path goes below it.
  const basePath = serverUrl.pathname.replace(/\/+$/, "");
  const clusterName = options.clusterName ?? context;
  const origin = serverUrl.origin;

  const identity = options.identity ?? {};
  const user = scoped.getCurrentUser();
  // Exec plugins, token files and OIDC refresh their tokens: ask client-node again per request
  // (its authenticators cache until expiry). Static credentials are resolved once.
  const dynamicUser = identity.bearerToken === undefined && user !== null && Boolean(user.exec || user.authProvider);
  const fixedHeaders: HeaderValues = { "User-Agent": options.userAgent ?? "capi-mcp" };
  // Built now so a malformed identity fails at construction, not on some later call.
  const impersonation = identity.impersonate ? impersonationHeaders(identity.impersonate) : undefined;
  const connectTimeout = options.connectTimeoutMilliseconds ?? defaultConnectTimeout;
  const requestTimeout = options.requestTimeoutMilliseconds ?? defaultRequestTimeout;
  const maxResponseBytes = options.maxResponseBytes ?? defaultMaxResponseBytes;
  const limiter = createRateLimiter({ qps: options.qps ?? defaultQps, burst: options.burst ?? defaultBurst });

  interface Transport {
    readonly agent: Agent;
    readonly tlsOptions: Readonly<Record<string, unknown>>;
    readonly initial: UserCredentials;
  }
  let transport: Promise<Transport> | undefined;
  let closed = false;

  async function initialize(): Promise<Transport> {
    let tls: TlsMaterial;
    try {
      tls = await clusterTls(scoped);
    } catch (error) {
      throw new KubeTransportError("credentials", "the cluster's CA could not be read", { cause: error });
    }
    const initial: UserCredentials =
      identity.bearerToken !== undefined
        ? { headers: { Authorization: `Bearer ${identity.bearerToken}` } }
        : await kubeConfigUserCredentials(scoped);
    const tlsOptions = {
      ...(tls.ca ? { ca: tls.ca } : {}),
      ...(initial.cert ? { cert: initial.cert } : {}),
      ...(initial.key ? { key: initial.key } : {}),
      rejectUnauthorized: tls.rejectUnauthorized,
      ...(tls.servername ? { servername: tls.servername } : {}),
    };
    const agent = new Agent({
      connect: { ...tlsOptions, timeout: connectTimeout, keepAlive: true, keepAliveInitialDelay: 30_000 },
      // HTTP/1.1 only. undici 8 negotiates HTTP/2 by default, and its HTTP/2 path folds repeated
      // header fields into one comma-joined value: `Impersonate-Group: a` + `Impersonate-Group: b`
      // reach the API server as the single group "a, b". HTTP/1.1 sends each as its own line.
      allowH2: false,
      connections: options.maxConnections ?? 16,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 60_000,
    });
    return { agent, tlsOptions, initial };
  }

  function ready(): Promise<Transport> {
    if (closed) return Promise.reject(new KubeTransportError("unreachable", "the connection is closed"));
    transport ??= initialize().catch((error: unknown) => {
      transport = undefined;
      throw error;
    });
    return transport;
  }

  async function headers(initial: UserCredentials): Promise<HeaderValues> {
    const credentials = dynamicUser ? await kubeConfigUserCredentials(scoped) : initial;
    const merged: HeaderValues = { ...credentials.headers, ...fixedHeaders };
    if (impersonation) {
      // The kubeconfig user's own `as:` is replaced, never combined, with the requested identity.
      for (const name of Object.keys(merged)) if (/^impersonate-/i.test(name)) delete merged[name];
      Object.assign(merged, impersonation);
    }
    return merged;
  }

  async function acquire(signal: AbortSignal | undefined): Promise<void> {
    try {
      await limiter.acquire(signal);
    } catch (error) {
      throw new KubeTransportError("aborted", "aborted while waiting for the rate limiter", { cause: error });
    }
  }

  async function readBody(
    body: AsyncIterable<Buffer | Uint8Array> & { destroy(): unknown },
    limit: number,
    onOverflow: "truncate" | "fail",
  ): Promise<{ body: Buffer; truncated: boolean }> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      if (size + buffer.length > limit) {
        if (onOverflow === "fail") {
          body.destroy();
          throw new KubeTransportError("too_large", `answer larger than ${limit} bytes`);
        }
        chunks.push(buffer.subarray(0, limit - size));
        size = limit;
        body.destroy();
        return { body: Buffer.concat(chunks), truncated: true };
      }
      chunks.push(buffer);
      size += buffer.length;
    }
    return { body: Buffer.concat(chunks), truncated: false };
  }

  async function request(request: KubeHttpRequest): Promise<KubeHttpResponse> {
    const { agent, initial } = await ready();
    if (!request.alreadyLimited) await acquire(request.signal);
    const telemetry = startRequestTelemetry(
      clusterName,
      serverUrl.host,
      request.method,
      requestShape(request.method, request.path, request.query),
    );
    try {
      const response = await sendRequest(agent, initial, request, telemetry.headers);
      telemetry.end({ status: response.status });
      return response;
    } catch (error) {
      telemetry.end({ error });
      throw error;
    }
  }

  async function sendRequest(
    agent: Agent,
    initial: UserCredentials,
    request: KubeHttpRequest,
    callHeaders: HeaderValues,
  ): Promise<KubeHttpResponse> {
    const requestHeaders = { ...(await headers(initial)), ...callHeaders };
    requestHeaders.Accept = request.accept ?? "application/json";
    let payload: string | undefined;
    if (request.body !== undefined) {
      payload = typeof request.body === "string" ? request.body : JSON.stringify(request.body);
      requestHeaders["Content-Type"] = request.contentType ?? "application/json";
    }
    const timeoutMilliseconds = request.timeoutMilliseconds ?? requestTimeout;
    const timeout = AbortSignal.timeout(timeoutMilliseconds);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    const query = request.query?.toString();
    let status: number;
    let contentType: string;
    let read: { body: Buffer; truncated: boolean };
    try {
      const response = await agent.request({
        origin,
        path: `${basePath}${request.path}${query ? `?${query}` : ""}`,
        method: request.method,
        headers: requestHeaders,
        body: payload ?? null,
        signal,
        headersTimeout: timeoutMilliseconds,
        bodyTimeout: timeoutMilliseconds,
      });
      status = response.statusCode;
      contentType = String(response.headers["content-type"] ?? "");
      const failed = status < 200 || status > 299;
      read = failed
        ? await readBody(response.body, maximumErrorBodyBytes, "truncate")
        : request.truncateAfterBytes !== undefined
          ? await readBody(response.body, request.truncateAfterBytes, "truncate")
          : await readBody(response.body, maxResponseBytes, "fail");
    } catch (error) {
      throw transportErrorFrom(error, timeout.aborted, request.signal?.aborted ?? false);
    }
    if (status < 200 || status > 299) throw new KubeHttpError(status, read.body.toString("utf8"));
    return { status, contentType, body: read.body, truncated: read.truncated };
  }

  async function stream(request: KubeStreamRequest): Promise<KubeStreamResponse> {
    const { agent, initial } = await ready();
    await acquire(request.signal);
    const telemetry = startRequestTelemetry(
      clusterName,
      serverUrl.host,
      "GET",
      requestShape("GET", request.path, request.query),
    );
    try {
      const opened = await openStream(agent, initial, request, telemetry.headers);
      // The span covers the request up to the answer's headers: a watch or log stream may then
      // run for minutes, which is the call's span's time, not this request's.
      telemetry.end({ status: 200 });
      return opened;
    } catch (error) {
      telemetry.end({ error });
      throw error;
    }
  }

  async function openStream(
    agent: Agent,
    initial: UserCredentials,
    request: KubeStreamRequest,
    callHeaders: HeaderValues,
  ): Promise<KubeStreamResponse> {
    const requestHeaders = { ...(await headers(initial)), ...callHeaders };
    requestHeaders.Accept = request.accept ?? "application/json";
    const headersTimeout = request.headersTimeoutMilliseconds ?? requestTimeout;
    const query = request.query?.toString();
    const aborted = () => request.signal?.aborted ?? false;
    let response: Awaited<ReturnType<Agent["request"]>>;
    try {
      response = await agent.request({
        origin,
        path: `${basePath}${request.path}${query ? `?${query}` : ""}`,
        method: "GET",
        headers: requestHeaders,
        signal: request.signal ?? null,
        headersTimeout,
        // undici's body timeout is an idle timeout (time between chunks), which is what a
        // long-lived stream needs; 0 disables it.
        bodyTimeout: request.idleTimeoutMilliseconds ?? 0,
      });
    } catch (error) {
      throw transportErrorFrom(error, false, aborted());
    }
    const status = response.statusCode;
    const contentType = String(response.headers["content-type"] ?? "");
    const body = response.body;
    if (status < 200 || status > 299) {
      let text = "";
      try {
        text = (await readBody(body, maximumErrorBodyBytes, "truncate")).body.toString("utf8");
      } catch (error) {
        throw transportErrorFrom(error, false, aborted());
      }
      throw new KubeHttpError(status, text);
    }
    async function* chunks(): AsyncGenerator<Uint8Array> {
      try {
        for await (const chunk of body) yield chunk as Uint8Array;
      } catch (error) {
        throw transportErrorFrom(error, false, aborted());
      }
    }
    return { contentType, body: chunks(), close: () => body.destroy() };
  }

  async function webSocket(
    path: string,
    query: URLSearchParams,
    protocols: readonly string[],
    signal?: AbortSignal,
  ): Promise<WebSocket> {
    const { tlsOptions, initial } = await ready();
    await acquire(signal);
    const telemetry = startRequestTelemetry(clusterName, serverUrl.host, "GET", requestShape("GET", path, query, true));
    const requestHeaders = { ...(await headers(initial)), ...telemetry.headers };
    const url = new URL(`${basePath}${path}?${query.toString()}`, origin);
    url.protocol = "wss:";
    return openWebSocket(
      { url, protocols, tlsOptions, headers: requestHeaders, handshakeTimeoutMilliseconds: connectTimeout },
      telemetry,
    );
  }

  const discoveryTransport = { limiter, request };
  return {
    context,
    server: `${origin}${basePath}`,
    identityTerms: identityTerms(identity.impersonate),
    limiter,
    discovery: createDiscoveryCache({
      fetch: () => fetchDiscovery(discoveryTransport),
      ttlMilliseconds: options.discoveryTtlMilliseconds ?? defaultDiscoveryTtl,
    }),
    request,
    stream,
    webSocket,
    async close() {
      closed = true;
      const current = transport;
      transport = undefined;
      if (current)
        await current.then(
          (ready) => ready.agent.close(),
          () => undefined,
        );
    },
  };
}
