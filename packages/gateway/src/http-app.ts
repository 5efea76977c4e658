// The HTTP face of the gateway: the MCP endpoint behind Host and Origin checks and a body
// limit, plus health endpoints. Every error is JSON with the right status; never a stack trace.
import type { GatewayErrorCode } from "@capi-mcp/core";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** HTTP status for each error code; typed by the closed union, so a new code needs a status. */
export const httpStatusOf: Record<GatewayErrorCode, ContentfulStatusCode> = {
  invalid_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  denied_by_policy: 403,
  not_found: 404,
  cluster_not_found: 404,
  ambiguous_cluster: 409,
  conflict: 409,
  invalid_object: 422,
  rate_limited: 429,
  timeout: 504,
  too_large: 413,
  unavailable: 503,
  internal: 500,
};

export type ReadinessCheck = () => Promise<{ ready: boolean; detail: Record<string, unknown> }>;

export interface HttpAppOptions {
  readonly endpoint: string;
  /** `host:port` values the Host header may carry. */
  readonly allowedHosts: readonly string[];
  /** Origins (scheme://host[:port]) a browser may call from. Requests without Origin are not browsers. */
  readonly allowedOrigins: readonly string[];
  /**
   * The gateway's own origins: each name it is reached by, with the scheme it is reached over
   * (see `gatewayOrigins`). Default: every allowed host over `http`, what this listener speaks.
   */
  readonly selfOrigins?: readonly string[];
  readonly maxBodyBytes: number;
  readonly handleMcp: (request: Request) => Promise<Response>;
  readonly readiness: ReadinessCheck;
  /** Where an unexpected failure's detail goes (the log), since the client never sees it. */
  readonly onUnexpectedError: (error: unknown) => void;
  /** More routes at the root (the OAuth endpoints and metadata), behind the same Host and Origin checks. */
  readonly routes?: Hono;
  /** Each answered request, for the metrics: `path` is a route template from a closed set, never the raw path. */
  readonly onRequestMeasured?: (request: {
    method: string;
    path: string;
    status: number;
    durationSeconds: number;
  }) => void;
}

const measuredMethods = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** Loopback listeners accept the names a local client may use for them. */
export function defaultAllowedHosts(listenHost: string, port: number): string[] {
  const loopback = ["127.0.0.1", "localhost", "[::1]"];
  const hosts = loopback.includes(listenHost) || listenHost === "::1" ? loopback : [listenHost];
  return hosts.map((host) => `${host}:${port}`);
}

/**
 * The origins a page served by the gateway itself has. The listener speaks plain HTTP, so its own
 * names are `http://`. Behind a proxy that terminates TLS, the names clients use are the public
 * base URL's, and so is the scheme: `https://gateway.example` is the gateway, and
 * `http://gateway.example` is not. An origin is scheme, host and port; comparing host and port
 * alone would let an `https` page speak for an `http` gateway and the other way round.
 */
export function gatewayOrigins(options: {
  /** `host:port` names of the listener itself (reached directly, over http). */
  readonly listenerHosts: readonly string[];
  /** More `host:port` names the gateway is reached by (through a proxy, when a base URL is set). */
  readonly extraHosts: readonly string[];
  /** The public base URL, when one is configured. */
  readonly baseUrl: string | undefined;
}): string[] {
  const externalScheme = options.baseUrl === undefined ? "http:" : new URL(options.baseUrl).protocol;
  const origins = [
    ...options.listenerHosts.map((host) => new URL(`http://${host}`).origin),
    ...options.extraHosts.map((host) => new URL(`${externalScheme}//${host}`).origin),
    ...(options.baseUrl === undefined ? [] : [new URL(options.baseUrl).origin]),
  ];
  return [...new Set(origins)];
}

function originOf(value: string): string | undefined {
  try {
    const origin = new URL(value).origin;
    // Opaque origins (file:, data:, "null") are no one's: never the gateway's, never allowed.
    return origin === "null" ? undefined : origin;
  } catch {
    return undefined;
  }
}

export function createHttpApp(options: HttpAppOptions): Hono {
  const app = new Hono();
  const allowedHosts = new Set(options.allowedHosts.map((host) => host.toLowerCase()));
  const allowedOrigins = new Set(options.allowedOrigins.map((origin) => new URL(origin).origin));
  const selfOrigins = new Set(
    (options.selfOrigins ?? options.allowedHosts.map((host) => `http://${host}`)).map(
      (origin) => new URL(origin).origin,
    ),
  );

  // Measured first, so refusals (403, 413) count too. The path label is the route's template
  // when the path is one the app serves and `other` otherwise, so a scanner cannot grow series.
  if (options.onRequestMeasured) {
    const measure = options.onRequestMeasured;
    const templates = new Set([
      options.endpoint,
      "/healthz",
      "/readyz",
      ...(options.routes?.routes.map((route) => route.path).filter((path) => !path.includes("*")) ?? []),
    ]);
    app.use("*", async (context, next) => {
      const started = performance.now();
      await next();
      measure({
        method: measuredMethods.has(context.req.method) ? context.req.method : "OTHER",
        path: templates.has(context.req.path) ? context.req.path : "other",
        status: context.res.status,
        durationSeconds: (performance.now() - started) / 1000,
      });
    });
  }

  // Probes first, before the Host check: kubelet sends the pod IP as Host, which no allowed-hosts
  // list names. They say only "ok", "ready" or "not ready", so a rebinding page learns nothing;
  // the details (clusters, pool) are metrics, on the metrics listener.
  app.get("/healthz", (context) => context.json({ status: "ok" }));
  app.get("/readyz", async (context) => {
    const { ready } = await options.readiness();
    return context.json({ status: ready ? "ready" : "unavailable" }, ready ? 200 : 503);
  });

  // DNS-rebinding protection: a page on another site must not reach a loopback gateway.
  app.use("*", async (context, next) => {
    const host = (context.req.header("host") ?? "").toLowerCase();
    if (!allowedHosts.has(host)) {
      return context.json(errorBody("invalid_host", `Host "${host}" is not served here.`), 403);
    }
    const origin = context.req.header("origin");
    if (origin !== undefined) {
      const normalized = originOf(origin);
      if (!normalized || !(selfOrigins.has(normalized) || allowedOrigins.has(normalized))) {
        return context.json(errorBody("invalid_origin", `Origin "${origin}" is not allowed.`), 403);
      }
    }
    return next();
  });

  app.use(
    options.endpoint,
    bodyLimit({
      maxSize: options.maxBodyBytes,
      onError: (context) =>
        context.json(errorBody("too_large", `The request body is larger than ${options.maxBodyBytes} bytes.`), 413),
    }),
  );
  app.on(["GET", "POST", "DELETE"], options.endpoint, (context) => options.handleMcp(context.req.raw));
  if (options.routes) app.route("/", options.routes);
  app.all(options.endpoint, (context) =>
    context.json(errorBody("method_not_allowed", "Use POST, GET or DELETE on the MCP endpoint."), 405),
  );

  app.notFound((context) => context.json(errorBody("not_found", `Nothing is served at ${context.req.path}.`), 404));
  app.onError((error, context) => {
    options.onUnexpectedError(error);
    return context.json(
      errorBody("internal", "The gateway failed to answer this request. The failure was logged."),
      500,
    );
  });
  return app;
}
