import { GatewayError, type GatewayErrorCause, redactServerText } from "@capi-mcp/core";
import { KubeHttpError, KubeTransportError } from "./transport-error.js";

/** What was being done when a call failed, so the error can say it in the caller's terms. */
export interface Operation {
  /** The cluster's name as users write it. */
  readonly cluster: string;
  /** The Kubernetes verb: get, list, create, patch, delete, … */
  readonly verb: string;
  /** The resource as a user would name it: `deployments`, `clusters.cluster.x-k8s.io`, `pods/exec`. */
  readonly resource: string;
  readonly name?: string;
  readonly namespace?: string;
  /**
   * Names of the identity the call ran as (impersonated user, groups, extras). Removed from any
   * text the API server wrote before it reaches the caller.
   */
  readonly identityTerms?: readonly string[];
}

/** A Kubernetes `Status` as the API server sends it with a failure. */
export interface KubeStatus {
  readonly kind?: string;
  readonly status?: string;
  readonly message?: string;
  readonly reason?: string;
  readonly code?: number;
  readonly details?: {
    readonly name?: string;
    readonly group?: string;
    readonly kind?: string;
    readonly uid?: string;
    readonly causes?: readonly { readonly reason?: string; readonly message?: string; readonly field?: string }[];
    readonly retryAfterSeconds?: number;
  };
}

const maximumServerTextLength = 800;

export function parseStatus(body: string): KubeStatus | undefined {
  if (!body.trimStart().startsWith("{")) return undefined;
  try {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as KubeStatus;
  } catch {
    // Not JSON: the caller falls back to the text itself.
  }
  return undefined;
}

function escapeForPattern(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Text the API server wrote, made fit for the caller, the audit record and the logs: every
 * embedded object, map dump and base64 run removed (`redactServerText`: such text can hold a
 * Secret's stored values, which the gateway cannot know), then who the caller is removed, then
 * bounded. Every server text that leaves this package passes through here.
 *
 * Authorizers phrase denials as `User "alice@example.com" cannot …` and audit-style messages
 * name groups and service accounts; none of that may reach a model's context, because with
 * impersonation it is someone else's identity, and in any case the caller does not need it.
 */
export function scrubServerText(text: string, identityTerms: readonly string[] = []): string {
  let scrubbed = redactServerText(text)
    // Capitalized only: `in API group ""` names an API group, not a subject.
    .replace(/\b(User|Group|ServiceAccount)\s+"[^"]*"/g, (_match, word: string) =>
      word === "User" ? "the user" : word === "Group" ? "a group" : "a service account",
    )
    .replace(/system:serviceaccount:[\w.-]+:[\w.-]+/g, "a service account")
    .replace(/\bgroups?\s*[=:]\s*\[[^\]]*\]/gi, "groups=[…]");
  for (const term of [...identityTerms].sort((left, right) => right.length - left.length)) {
    if (term.length < 2) continue;
    scrubbed = scrubbed.replace(new RegExp(escapeForPattern(term), "g"), "[identity]");
  }
  return scrubbed.length > maximumServerTextLength ? `${scrubbed.slice(0, maximumServerTextLength)}…` : scrubbed;
}

function where(operation: Operation, clusterScoped = false): string {
  const namespace = !clusterScoped && operation.namespace ? ` in namespace "${operation.namespace}"` : "";
  return `${namespace} on cluster ${operation.cluster}`;
}

function serverSays(status: KubeStatus | undefined, body: string, operation: Operation): string {
  const text = status?.message ?? body.trim();
  return scrubServerText(text.length > 0 ? text : "(no message)", operation.identityTerms);
}

function objectText(status: KubeStatus | undefined, operation: Operation): { text: string; clusterScoped: boolean } {
  const details = status?.details;
  const kind = details?.kind;
  const name = details?.name ?? operation.name;
  if (kind && name) {
    const resource = details?.group?.includes(".") ? `${kind}.${details.group}` : kind;
    return { text: `${resource} "${name}"`, clusterScoped: kind === "namespaces" || kind === "nodes" };
  }
  return { text: name ? `${operation.resource} "${name}"` : operation.resource, clusterScoped: false };
}

/** `Forbidden: you may not list pods in namespace kube-system on cluster org-acme/dev.` — never who "you" is. */
export function forbiddenMessage(operation: Operation): string {
  const name = operation.name ? ` "${operation.name}"` : "";
  const scope = operation.namespace ? ` in namespace ${operation.namespace}` : "";
  return `Forbidden: you may not ${operation.verb} ${operation.resource}${name}${scope} on cluster ${operation.cluster}.`;
}

// An RBAC denial is fully described by the rewritten sentence; anything else (an admission
// plugin, a quota) has a reason the caller needs, which is kept after scrubbing.
const authorizerDenial = /\bcannot\s+[\w-]+\s+resource\b|\bcannot\s+[\w-]+\s+path\b|is forbidden: User\b/i;

function causesFrom(status: KubeStatus | undefined, operation: Operation): GatewayErrorCause[] {
  return (status?.details?.causes ?? []).map((cause) => ({
    ...(cause.field ? { field: scrubServerText(cause.field, operation.identityTerms) } : {}),
    ...(cause.reason ? { reason: cause.reason } : {}),
    message: scrubServerText(cause.message ?? cause.reason ?? "invalid", operation.identityTerms),
  }));
}

/** Maps an API server's failure answer to the error the caller sees. */
export function gatewayErrorFromResponse(httpStatus: number, body: string, operation: Operation): GatewayError {
  const status = parseStatus(body);
  const code = status?.code ?? httpStatus;
  const reason = status?.reason;
  const detail = `HTTP ${httpStatus}${reason ? ` ${reason}` : ""} for ${operation.verb} ${operation.resource} on ${operation.cluster}`;
  const said = serverSays(status, body, operation);

  if (code === 401) {
    return new GatewayError(
      "unauthenticated",
      `Cluster ${operation.cluster} did not accept the credentials (401 Unauthorized). Sign in again, or check the credentials configured for this cluster.`,
      { detail },
    );
  }
  if (code === 403) {
    const fromAdmission = !authorizerDenial.test(status?.message ?? body);
    const extra = fromAdmission && said !== "(no message)" ? ` The API server said: ${said}` : "";
    return new GatewayError("forbidden", `${forbiddenMessage(operation)}${extra}`, {
      detail: `${detail}: ${said}`,
    });
  }
  if (code === 404) {
    const { text, clusterScoped } = objectText(status, operation);
    const hasName = (status?.details?.name ?? operation.name) !== undefined;
    const message = hasName
      ? `${text} not found${where(operation, clusterScoped)}.`
      : `Not found on cluster ${operation.cluster}: ${said}`;
    return new GatewayError("not_found", message, { detail });
  }
  if (code === 409) {
    if (reason === "AlreadyExists") {
      const { text, clusterScoped } = objectText(status, operation);
      return new GatewayError("conflict", `${text} already exists${where(operation, clusterScoped)}.`, { detail });
    }
    const hint = /apply failed/i.test(said)
      ? " Apply again with force to take over the conflicting fields, or leave them to their current manager."
      : " Read the object again and retry with its current version.";
    return new GatewayError("conflict", `Conflict on cluster ${operation.cluster}: ${said}${hint}`, {
      detail,
      causes: causesFrom(status, operation),
    });
  }
  if (code === 422) {
    return new GatewayError(
      "invalid_object",
      `The API server of cluster ${operation.cluster} rejected the object: ${said}`,
      {
        detail,
        causes: causesFrom(status, operation),
      },
    );
  }
  if (code === 410) {
    return new GatewayError(
      "invalid_input",
      `The continue token has expired on cluster ${operation.cluster}; list again from the start.`,
      { detail },
    );
  }
  if (code === 405) {
    return new GatewayError(
      "invalid_input",
      `${operation.resource} does not support ${operation.verb} on cluster ${operation.cluster}.`,
      { detail },
    );
  }
  if (code === 413) {
    return new GatewayError("too_large", `The request is too large for cluster ${operation.cluster}: ${said}`, {
      detail,
    });
  }
  if (code === 429) {
    const retry = status?.details?.retryAfterSeconds;
    return new GatewayError(
      "rate_limited",
      `Cluster ${operation.cluster} is throttling requests (429 Too Many Requests)${retry ? `; retry after ${retry} s` : ""}.`,
      { detail },
    );
  }
  if (code === 504 || code === 408 || reason === "Timeout" || reason === "ServerTimeout") {
    return new GatewayError("timeout", `Cluster ${operation.cluster} did not finish the request in time: ${said}`, {
      detail,
    });
  }
  if (code === 502 || code === 503) {
    return new GatewayError("unavailable", `Cluster ${operation.cluster} is unavailable: ${said}`, { detail });
  }
  if (code >= 400 && code < 500) {
    return new GatewayError("invalid_input", `Cluster ${operation.cluster} refused the request: ${said}`, {
      detail,
      causes: causesFrom(status, operation),
    });
  }
  return new GatewayError("internal", `The API server of cluster ${operation.cluster} failed: ${said}`, { detail });
}

/** Maps anything a Kubernetes call threw to a `GatewayError`; a `GatewayError` passes through. */
export function gatewayErrorFrom(error: unknown, operation: Operation): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof KubeHttpError) return gatewayErrorFromResponse(error.status, error.body, operation);
  if (error instanceof KubeTransportError) {
    const detail = `${error.code ?? error.kind}: ${error.message}`;
    switch (error.kind) {
      case "timeout":
        return new GatewayError(
          "timeout",
          `Cluster ${operation.cluster} did not answer in time (${operation.verb} ${operation.resource}).`,
          { detail },
        );
      case "aborted":
        return new GatewayError(
          "timeout",
          `The call was cancelled before cluster ${operation.cluster} answered (${operation.verb} ${operation.resource}).`,
          { detail },
        );
      case "too_large":
        return new GatewayError(
          "too_large",
          `The answer from cluster ${operation.cluster} is too large; narrow the request (a selector, a namespace, or limit and continue).`,
          { detail },
        );
      case "credentials":
        return new GatewayError(
          "unauthenticated",
          `Credentials for cluster ${operation.cluster} could not be obtained; check the cluster's configured credentials.`,
          { detail },
        );
      case "unreachable":
        return new GatewayError("unavailable", `Cluster ${operation.cluster} is unreachable.`, { detail });
    }
  }
  return new GatewayError(
    "internal",
    `An unexpected error happened while calling cluster ${operation.cluster} (${operation.verb} ${operation.resource}).`,
    { detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error), cause: error },
  );
}
