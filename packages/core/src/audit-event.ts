import type { GatewayErrorCode } from "./gateway-error.js";

/** One record per tool call, written once when the call ends. Never holds a secret value. */
export interface AuditEvent {
  readonly time: string;
  readonly sessionId: string | undefined;
  readonly actor: {
    readonly username: string;
    readonly subject?: string;
    readonly email?: string;
    readonly groups: readonly string[];
    /** How the actor was established. */
    readonly source: "kubeconfig" | "in-cluster" | "oauth";
  };
  readonly client: { readonly name?: string; readonly version?: string; readonly oauthClientId?: string };
  readonly tool: string;
  readonly cluster?: string;
  readonly namespace?: string;
  readonly kind?: string;
  readonly name?: string;
  /** The call's arguments, with secret values replaced. */
  readonly arguments: Record<string, unknown>;
  readonly dryRun: boolean;
  readonly outcome: "ok" | "denied" | "error";
  readonly errorCode?: GatewayErrorCode;
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
  record(event: AuditEvent): void;
  recordAuthorization(event: AuthorizationAuditEvent): void;
  close(): Promise<void>;
}
