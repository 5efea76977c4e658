// What every request to an API server carries for the call it belongs to, and what it leaves
// behind: the call's id as `Audit-ID` (kube-apiserver takes a client-supplied Audit-ID as the
// audit event's `auditID`), the W3C trace context of a client span, and a note of the answer's
// status in the call's scope (the audit record's `kubernetesResponses`).
import { currentCallScope, noteKubernetesResponse } from "@capi-mcp/core";
import { context, propagation, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { HeaderValues } from "./impersonation.js";
import { KubeHttpError, KubeTransportError } from "./transport-error.js";

const tracer = trace.getTracer("capi-mcp");

export interface RequestShape {
  /** get, list, watch, create, update, patch, delete, deletecollection, or connect (exec, port-forward). */
  readonly verb: string;
  /** Plural resource, with a subresource as `pods/log`; undefined for discovery and other non-resource paths. */
  readonly resource?: string;
  readonly namespace?: string;
}

/**
 * The Kubernetes verb, resource and namespace of a REST path, as the API server's authorizer would
 * see them. Object names are deliberately not returned: spans and audit notes name what kind of
 * thing was asked for, not which one.
 */
export function requestShape(method: string, path: string, query?: URLSearchParams, upgrade = false): RequestShape {
  const segments = path.split("?")[0]?.split("/").filter(Boolean) ?? [];
  let rest: string[];
  if (segments[0] === "api" && segments.length > 2) rest = segments.slice(2);
  else if (segments[0] === "apis" && segments.length > 3) rest = segments.slice(3);
  else return { verb: method === "GET" ? "get" : method.toLowerCase() };
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length > 2) {
    namespace = decodeURIComponent(rest[1] ?? "");
    rest = rest.slice(2);
  }
  const [resource, name, subresource] = rest.map((segment) => decodeURIComponent(segment));
  const label = subresource === undefined ? resource : `${resource}/${subresource}`;
  const verb = upgrade ? "connect" : verbOf(method, name !== undefined, query);
  return {
    verb,
    ...(label === undefined ? {} : { resource: label }),
    ...(namespace === undefined ? {} : { namespace }),
  };
}

/** The authorizer's verb for a method on a collection (no name) or one object. */
function verbOf(method: string, named: boolean, query: URLSearchParams | undefined): string {
  switch (method) {
    case "GET":
      if (named) return "get";
      return query?.get("watch") === "true" || query?.get("watch") === "1" ? "watch" : "list";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return named ? "delete" : "deletecollection";
    default:
      return method.toLowerCase();
  }
}

export interface RequestTelemetry {
  /** Headers to add to the request: `Audit-ID` within a call, `traceparent` when a span records. */
  readonly headers: HeaderValues;
  /** Ends the span and notes the answer; `status` is the HTTP status, or the failure thrown. */
  end(outcome: { status: number } | { error: unknown }): void;
}

/** Starts the client span of one API-server request and the headers that go with it. */
export function startRequestTelemetry(
  cluster: string,
  server: string,
  method: string,
  shape: RequestShape,
): RequestTelemetry {
  const scope = currentCallScope();
  const span: Span = tracer.startSpan(
    `${shape.verb} ${shape.resource ?? "discovery"}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        "k8s.cluster.name": cluster,
        "http.request.method": method,
        "server.address": server,
        "capi_mcp.kubernetes.verb": shape.verb,
        ...(shape.resource === undefined ? {} : { "capi_mcp.kubernetes.resource": shape.resource }),
        ...(shape.namespace === undefined ? {} : { "k8s.namespace.name": shape.namespace }),
        ...(scope === undefined ? {} : { "capi_mcp.call.id": scope.callId }),
      },
    },
    context.active(),
  );
  const headers: HeaderValues = {};
  if (scope !== undefined) headers["Audit-ID"] = scope.callId;
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  for (const [name, value] of Object.entries(carrier)) headers[name] = value;
  let ended = false;
  return {
    headers,
    end(outcome) {
      if (ended) return;
      ended = true;
      let status = 0;
      let errorType: string | undefined;
      if ("status" in outcome) status = outcome.status;
      else if (outcome.error instanceof KubeHttpError) status = outcome.error.status;
      else errorType = outcome.error instanceof KubeTransportError ? outcome.error.kind : "_OTHER";
      if (status !== 0) span.setAttribute("http.response.status_code", status);
      if (status >= 400) errorType = String(status);
      if (errorType !== undefined) {
        span.setAttribute("error.type", errorType);
        // The code only: an API server's message can name users and objects.
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
      }
      span.end();
      noteKubernetesResponse({
        cluster,
        verb: shape.verb,
        ...(shape.resource === undefined ? {} : { resource: shape.resource }),
        status,
      });
    },
  };
}
