import type { KubernetesResponseNote } from "./call-scope.js";
import type { GatewayErrorCode } from "./gateway-error.js";

/** How a call ended. */
export type AuditOutcome = "ok" | "denied" | "error";

/**
 * One record per tool call, written when the call ends (`stage: "completed"`). A call that may
 * change a cluster also gets a record before anything is sent (`stage: "started"`, outcome
 * `pending`): if that one cannot be written the change is refused, so no mutation goes
 * unrecorded. Never holds a secret value.
 */
export interface AuditEvent {
  readonly time: string;
  readonly stage: "started" | "completed";
  /** The call id, also sent as `Audit-ID` on each API-server request, so it is the `auditID` there. */
  readonly callId: string;
  /** The W3C trace id of the call's span, when tracing is on. */
  readonly traceId?: string;
  readonly sessionId: string | undefined;
  readonly actor: {
    readonly username: string;
    readonly subject?: string;
    readonly email?: string;
    readonly groups: readonly string[];
    /** How the actor was established. */
    readonly source: "kubeconfig" | "in-cluster" | "oauth";
  };
  /** The client's own name and version (from `initialize`) and, with OAuth, its registered client id. */
  readonly client: { readonly name?: string; readonly version?: string; readonly oauthClientId?: string };
  /** The HTTP request headers named by `--audit-request-headers` (lower-case names), as sent. */
  readonly requestHeaders?: Readonly<Record<string, string>>;
  readonly tool: string;
  readonly cluster?: string;
  readonly namespace?: string;
  readonly kind?: string;
  readonly name?: string;
  /** The call's arguments, with secret values replaced. */
  readonly arguments: Record<string, unknown>;
  readonly dryRun: boolean;
  readonly outcome: AuditOutcome | "pending";
  readonly errorCode?: GatewayErrorCode;
  /** Each API-server answer the call received (cluster, verb, resource, status), in order. */
  readonly kubernetesResponses?: readonly KubernetesResponseNote[];
  /** How many more answers there were beyond the ones listed. */
  readonly moreKubernetesResponses?: number;
  readonly durationMilliseconds: number;
}

/**
 * An authorization event (login, refusal, consent, token issued, reuse detected, revocation),
 * written to the same audit trail as tool calls. Never holds a token, code or secret.
 */
export interface AuthorizationAuditEvent {
  readonly time: string;
  readonly type: string;
}

export interface AuditSink {
  /**
   * Writes one tool-call record synchronously; throws when it could not be written to every
   * configured destination, so the caller can refuse a mutation it cannot record.
   */
  record(event: AuditEvent): void;
  recordAuthorization(event: AuthorizationAuditEvent): void;
  close(): Promise<void>;
}
