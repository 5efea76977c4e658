/**
 * Failures below the Kubernetes API: these stay inside the package and are turned into
 * `GatewayError`s by `errors.ts`, which knows the cluster and operation. Their messages never
 * carry request headers, so never a credential.
 */

/** The API server answered with a status outside 2xx; `body` is its answer (usually a `Status`). */
export class KubeHttpError extends Error {
  readonly status: number;
  readonly body: string;

  constructor(status: number, body: string) {
    super(`the API server answered ${status}`);
    this.name = "KubeHttpError";
    this.status = status;
    this.body = body;
  }
}

/** How much of a refused answer's body (REST, stream or WebSocket upgrade) is kept for its `KubeHttpError`. */
export const maximumErrorBodyBytes = 256 * 1024;

export type TransportFailureKind =
  /** No connection could be made or kept: refused, reset, DNS, TLS, connect timeout. */
  | "unreachable"
  /** Connected, but no (complete) answer in time. */
  | "timeout"
  /** The caller aborted the call. */
  | "aborted"
  /** The answer is larger than the connection accepts. */
  | "too_large"
  /** Credentials could not be obtained (an exec plugin or token file failed). */
  | "credentials";

export class KubeTransportError extends Error {
  readonly kind: TransportFailureKind;
  /** A system or library error code (`ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`, …) when there is one. */
  readonly code: string | undefined;

  constructor(kind: TransportFailureKind, message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "KubeTransportError";
    this.kind = kind;
    this.code = options.code;
  }
}

const timeoutCodes = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT", "ESOCKETTIMEDOUT"]);

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return code;
  const cause = (error as { cause?: unknown }).cause;
  return cause === undefined || cause === error ? undefined : errorCode(cause);
}

/** Classifies an error thrown by undici, ws or the socket layer. */
export function transportErrorFrom(error: unknown, timedOut: boolean, aborted: boolean): KubeTransportError {
  if (error instanceof KubeTransportError) return error;
  const code = errorCode(error);
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (timedOut || (code !== undefined && timeoutCodes.has(code))) {
    return new KubeTransportError("timeout", text, { ...(code ? { code } : {}), cause: error });
  }
  if (aborted) return new KubeTransportError("aborted", text, { ...(code ? { code } : {}), cause: error });
  return new KubeTransportError("unreachable", text, { ...(code ? { code } : {}), cause: error });
}
