// The one place where a tool call is guarded, parsed, run, bounded, audited and traced. Every
// tool goes through `runTool`; no tool repeats any of this.
import { randomUUID } from "node:crypto";
import {
  type AuditEvent,
  type AuditOutcome,
  type AuditSink,
  type ClusterCatalog,
  execTimeoutWithin,
  GatewayError,
  type GatewayErrorCode,
  newCallScope,
  type OperationClass,
  type Principal,
  redactServerText,
  runInCallScope,
  type SessionState,
  type ToolContinueTokens,
  type ToolDefinition,
  type ToolResult,
  type ToolSettings,
  type ToolTarget,
} from "@capi-mcp/core";
import { z } from "zod";
import { asGatewayError, errorText } from "./error-text.js";

/** What the runner needs from the policy package (structurally; see @capi-mcp/policy). */
export interface CallGuard {
  offers(tool: Pick<ToolDefinition, "name" | "operation">): boolean;
  decide(
    tool: Pick<ToolDefinition, "name" | "operation">,
  ): { allowed: true; dryRun: boolean } | { allowed: false; error: GatewayError };
  /** Wraps the catalog for one call; continue tokens are bound to `principal`. */
  guardCatalog(catalog: ClusterCatalog, principal?: Principal): ClusterCatalog;
  /** The sealer for a tool's own continue tokens, bound to this tool and `principal`. */
  toolContinueTokens(toolName: string, principal?: Principal): ToolContinueTokens;
  redactArguments(toolName: string, args: Record<string, unknown>): Record<string, unknown>;
}

/** What the runner needs from the telemetry package (structurally; see @capi-mcp/telemetry). */
export interface CallTelemetry {
  startToolCall(attributes: {
    tool: string;
    sessionId: string | undefined;
    cluster: string | undefined;
    protocolVersion: string | undefined;
    callId?: string;
    /** W3C trace context the caller sent (`traceparent`, `tracestate`), to continue its trace. */
    traceCarrier?: Readonly<Record<string, string>>;
  }): {
    /** The call's trace id, when its span is recorded. */
    readonly traceId?: string | undefined;
    /** Runs `work` with the call's span as the active one, so the requests it makes are its children. */
    run?<T>(work: () => T): T;
    end(result: {
      outcome: AuditOutcome;
      errorCode?: string;
      cluster?: string;
      namespace?: string;
      dryRun?: boolean;
    }): void;
  };
}

/** Told each time a record could not be written: `mutation` calls were refused, `read` ones went on. */
export interface AuditFailureCounter {
  count(kind: "mutation" | "read"): void;
}

export interface CallLogger {
  warn(object: Record<string, unknown>, message: string): void;
  error(object: Record<string, unknown>, message: string): void;
}

/** Who the caller is, for the audit record, when no OAuth principal exists (stdio, kubeconfig). */
export interface LocalActor {
  readonly username: string;
  readonly source: "kubeconfig" | "in-cluster";
}

export interface ToolRunnerDependencies {
  readonly guard: CallGuard;
  readonly telemetry: CallTelemetry;
  readonly audit: AuditSink;
  readonly logger: CallLogger;
  readonly settings: ToolSettings;
  /** Bound on one call's duration. */
  readonly toolTimeoutMilliseconds: number;
  readonly localActor: LocalActor;
  readonly auditFailures?: AuditFailureCounter;
}

export interface CallEnvironment {
  readonly session: SessionState;
  readonly catalog: ClusterCatalog;
  readonly principal: Principal | undefined;
  readonly client: { name?: string; version?: string; oauthClientId?: string };
  readonly protocolVersion: string | undefined;
  readonly signal: AbortSignal;
  /** The HTTP request headers the operator asked to record (`--audit-request-headers`), lower-case. */
  readonly requestHeaders?: Readonly<Record<string, string>>;
  /** W3C trace context of the request: `params._meta` first, else the HTTP headers. */
  readonly traceCarrier?: Readonly<Record<string, string>>;
}

export interface CallOutcome {
  readonly text: string;
  readonly structured?: Record<string, unknown>;
  readonly isError: boolean;
}

const truncationNote = (omitted: number) =>
  `\n[Truncated by the gateway: ${omitted} more bytes were left out. Narrow the request (selectors, limit and continue, tailLines) to see the rest.]`;

/** Cuts text to the byte budget at a line boundary, saying so. */
export function enforceBudget(text: string, budgetBytes: number): string {
  const bytes = Buffer.byteLength(text);
  if (bytes <= budgetBytes) return text;
  const reserve = 200;
  let cut = Buffer.from(text)
    .subarray(0, Math.max(0, budgetBytes - reserve))
    .toString("utf8");
  // A multi-byte character cut in half decodes as U+FFFD; drop it, then end at a line break.
  cut = cut.replace(/\uFFFD$/, "");
  const lineEnd = cut.lastIndexOf("\n");
  if (lineEnd > 0) cut = cut.slice(0, lineEnd);
  return `${cut}${truncationNote(bytes - Buffer.byteLength(cut))}`;
}

// Longer than any Kubernetes name or cluster reference; such a value is invalid input anyway.
const longestTargetText = 253;

const controlCharacter = /[\p{Cc}\u2028\u2029]/u;

/** A name-like argument for the audit record's and the span's target, if it could be one. */
function targetText(value: unknown): string | undefined {
  return typeof value === "string" &&
    value.length > 0 &&
    value.length <= longestTargetText &&
    !controlCharacter.test(value)
    ? value
    : undefined;
}

function stringArgument(args: Record<string, unknown>, key: string): string | undefined {
  return targetText(args[key]);
}

function byteLength(value: unknown): number {
  if (typeof value === "string") return Buffer.byteLength(value, "utf8");
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? "", "utf8");
  } catch {
    return 0;
  }
}

/**
 * What stands in for an argument that is not recorded. An object rather than a text, so that
 * nothing downstream mistakes it for a value (a manifest text, say) and so no text a caller
 * sends can pose as one.
 */
function notRecorded(reason: string, value: unknown): { notRecorded: string; bytes: number } {
  return { notRecorded: reason, bytes: byteLength(value) };
}

/**
 * The arguments as the audit record holds them: each one as the tool's own schema parsed it, so
 * a manifest given as text is recorded as the object that will be sent and redacted from that
 * object, never from its spelling. A value its schema refuses, or a key the tool does not take,
 * is recorded as a marker with its size only: it was not used, and invalid text (a manifest
 * that does not parse, a name with a line break) is exactly what must not be copied verbatim.
 */
function recordedArguments(tool: ToolDefinition, args: Record<string, unknown>): Record<string, unknown> {
  const shape = tool.input.shape as Record<string, z.ZodType | undefined>;
  const recorded: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    const schema = shape[key];
    if (schema === undefined) {
      recorded[key] = notRecorded(`not an argument of ${tool.name}`, value);
      continue;
    }
    let parsed: { success: true; data: unknown } | { success: false };
    try {
      parsed = schema.safeParse(value);
    } catch {
      // A schema's transform (a manifest's parser) refuses by throwing its GatewayError.
      parsed = { success: false };
    }
    recorded[key] = parsed.success ? parsed.data : notRecorded(`not a valid value for ${key}`, value);
  }
  return recorded;
}

// An operator's log line for one failure: enough to diagnose, bounded whatever the detail holds.
const longestLoggedDetail = 4096;

/**
 * A failure's detail as it may be logged: an API server's text can be in it, so it goes through
 * the same structural redaction as every server text, then is bounded.
 */
function loggedDetail(detail: string): string {
  const redacted = redactServerText(detail);
  return redacted.length > longestLoggedDetail
    ? `${redacted.slice(0, longestLoggedDetail)}… [${redacted.length - longestLoggedDetail} more characters cut by the gateway]`
    : redacted;
}

/** What the arguments say the call is about, before the tool reports its own target. */
function targetFromArguments(
  args: Record<string, unknown>,
  session: SessionState,
  catalog: ClusterCatalog,
): ToolTarget {
  const manifest = args.manifest;
  const manifestObject =
    typeof manifest === "object" && manifest !== null ? (manifest as Record<string, unknown>) : undefined;
  const metadata = manifestObject?.metadata as Record<string, unknown> | undefined;
  return {
    cluster: stringArgument(args, "cluster") ?? session.currentCluster ?? catalog.defaultCluster,
    namespace: stringArgument(args, "namespace") ?? targetText(metadata?.namespace),
    kind: stringArgument(args, "resource") ?? targetText(manifestObject?.kind),
    name: stringArgument(args, "name") ?? targetText(metadata?.name),
  };
}

function parseInput(tool: ToolDefinition, args: Record<string, unknown>): unknown {
  const parsed = tool.input.safeParse(args);
  if (parsed.success) return parsed.data;
  const causes = parsed.error.issues.map((issue) => ({
    field: issue.path.map(String).join(".") || undefined,
    message: issue.message,
  }));
  throw new GatewayError("invalid_input", `The arguments for ${tool.name} are not valid.`, {
    causes: causes.map((cause) =>
      cause.field ? { field: cause.field, message: cause.message } : { message: cause.message },
    ),
  });
}

async function withTimeout<T>(work: Promise<T>, milliseconds: number, toolName: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new GatewayError(
            "timeout",
            `${toolName} did not finish within ${Math.round(milliseconds / 1000)} s. Narrow the request or try again.`,
          ),
        ),
      milliseconds,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs one tool call through the whole pipeline. Never throws: failures become tool errors. */
export async function runTool(
  dependencies: ToolRunnerDependencies,
  tool: ToolDefinition,
  rawArguments: Record<string, unknown> | undefined,
  environment: CallEnvironment,
): Promise<CallOutcome> {
  const started = performance.now();
  const args = rawArguments ?? {};
  // Parsed once, field by field: the audit record holds these, and the target is read from them
  // (a manifest given as text names its kind and name once parsed).
  const recorded = recordedArguments(tool, args);
  let target = targetFromArguments(recorded, environment.session, environment.catalog);
  const callId = randomUUID();
  const call = dependencies.telemetry.startToolCall({
    tool: tool.name,
    sessionId: environment.session.id,
    cluster: target.cluster,
    protocolVersion: environment.protocolVersion,
    callId,
    ...(environment.traceCarrier ? { traceCarrier: environment.traceCarrier } : {}),
  });
  const scope = newCallScope(callId);
  const inCall = <T>(work: () => T): T => runInCallScope(scope, () => (call.run ? call.run(work) : work()));
  const mutation = changesClusters(tool.operation);
  const actor = actorOf(environment.principal, dependencies.localActor);
  const redactedArguments = () => dependencies.guard.redactArguments(tool.name, recorded);
  const recordBase = () => ({
    time: new Date().toISOString(),
    callId,
    ...(call.traceId ? { traceId: call.traceId } : {}),
    sessionId: environment.session.id,
    actor,
    client: environment.client,
    ...(environment.requestHeaders && Object.keys(environment.requestHeaders).length > 0
      ? { requestHeaders: environment.requestHeaders }
      : {}),
    tool: tool.name,
  });
  let outcome: AuditOutcome = "ok";
  let errorCode: GatewayErrorCode | undefined;
  let dryRun = dependencies.settings.dryRun;
  let result: CallOutcome;

  try {
    const decision = dependencies.guard.decide(tool);
    if (!decision.allowed) {
      outcome = "denied";
      throw decision.error;
    }
    dryRun = dryRun || decision.dryRun;
    const input = parseInput(tool, args);
    if (mutation) {
      // Fail closed: a change is sent only once the record that it is about to be is written.
      try {
        dependencies.audit.record({
          ...recordBase(),
          stage: "started",
          ...definedEntries(target),
          arguments: redactedArguments(),
          dryRun: isMutation(tool.operation) ? dryRun : false,
          outcome: "pending",
          durationMilliseconds: 0,
        });
      } catch (error) {
        dependencies.auditFailures?.count("mutation");
        dependencies.logger.error(
          { tool: tool.name, callId, reason: auditFailureReason(error) },
          "audit record could not be written; the call was refused",
        );
        throw new GatewayError(
          "unavailable",
          `${tool.name} was refused: the gateway cannot write its audit record, and it makes no change it cannot record. Reads still work; ask the operator to fix the audit log.`,
        );
      }
    }
    const signal = AbortSignal.any([environment.signal, AbortSignal.timeout(dependencies.toolTimeoutMilliseconds)]);
    const handlerContext = {
      clusters: dependencies.guard.guardCatalog(environment.catalog, environment.principal),
      continueTokens: dependencies.guard.toolContinueTokens(tool.name, environment.principal),
      session: environment.session,
      principal: environment.principal,
      settings: {
        ...dependencies.settings,
        dryRun,
        // Strictly inside the tool timeout, so a command stopped at its bound still answers.
        execTimeoutMilliseconds: Math.min(
          dependencies.settings.execTimeoutMilliseconds,
          execTimeoutWithin(dependencies.toolTimeoutMilliseconds),
        ),
      },
      signal,
    };
    const toolResult: ToolResult = await withTimeout(
      inCall(() => tool.handler(input as never, handlerContext)),
      dependencies.toolTimeoutMilliseconds,
      tool.name,
    );
    target = { ...target, ...definedEntries(toolResult.target ?? {}) };
    dryRun = toolResult.dryRun ?? dryRun;
    result = {
      text: enforceBudget(toolResult.text, dependencies.settings.outputBudgetBytes),
      ...(toolResult.structured ? { structured: toolResult.structured } : {}),
      isError: false,
    };
  } catch (thrown) {
    const error = asGatewayError(thrown);
    if (outcome !== "denied") outcome = error.code === "denied_by_policy" ? "denied" : "error";
    errorCode = error.code;
    if (error.code === "internal") {
      dependencies.logger.error(
        { tool: tool.name, detail: loggedDetail(error.detail ?? "") },
        "tool call failed unexpectedly",
      );
    } else if (error.detail) {
      dependencies.logger.warn(
        { tool: tool.name, code: error.code, detail: loggedDetail(error.detail) },
        "tool call failed",
      );
    }
    result = { text: errorText(error), isError: true };
  }

  const recordedDryRun = isMutation(tool.operation) ? dryRun : false;
  try {
    dependencies.audit.record({
      ...recordBase(),
      stage: "completed",
      ...definedEntries(target),
      arguments: redactedArguments(),
      dryRun: recordedDryRun,
      outcome,
      ...(errorCode ? { errorCode } : {}),
      ...(scope.responses.length > 0 ? { kubernetesResponses: [...scope.responses] } : {}),
      ...(scope.moreResponses > 0 ? { moreKubernetesResponses: scope.moreResponses } : {}),
      durationMilliseconds: Math.round((performance.now() - started) * 1000) / 1000,
    });
  } catch (error) {
    // The call has already run (a mutation's "started" record was written): answer it, and say
    // loudly that its end went unrecorded.
    dependencies.auditFailures?.count(mutation ? "mutation" : "read");
    dependencies.logger.error(
      { tool: tool.name, callId, reason: auditFailureReason(error) },
      "audit record could not be written",
    );
  }
  call.end({
    outcome,
    ...(errorCode ? { errorCode } : {}),
    ...(target.cluster ? { cluster: target.cluster } : {}),
    ...(target.namespace ? { namespace: target.namespace } : {}),
    ...(mutation ? { dryRun: recordedDryRun } : {}),
  });
  return result;
}

function actorOf(principal: Principal | undefined, localActor: LocalActor): AuditEvent["actor"] {
  return principal
    ? {
        username: principal.username,
        subject: principal.subject,
        ...(principal.email ? { email: principal.email } : {}),
        groups: principal.groups,
        source: "oauth" as const,
      }
    : { username: localActor.username, groups: [], source: localActor.source };
}

/** Why a write failed, for the log: the error's code (ENOSPC, EACCES, …) and message, bounded. */
function auditFailureReason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 512 ? `${text.slice(0, 512)}…` : text;
}

/** Operations that can change a cluster or reach into a workload: recorded before they run. */
function changesClusters(operation: OperationClass): boolean {
  return operation !== "read" && operation !== "session";
}

function isMutation(operation: OperationClass): boolean {
  return (
    operation === "create" ||
    operation === "apply" ||
    operation === "patch" ||
    operation === "scale" ||
    operation === "delete"
  );
}

function definedEntries<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** The JSON Schema a tool's input advertises in tools/list. */
export function inputJsonSchema(tool: ToolDefinition): { type: "object"; [key: string]: unknown } {
  const schema = z.toJSONSchema(tool.input, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  const { $schema: _ignored, ...rest } = schema;
  return { ...rest, type: "object" };
}
