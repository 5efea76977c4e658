import type { z } from "zod";
import type { ClusterCatalog, PortForwardHandle } from "./cluster-access.js";
import type { GatewayErrorCode } from "./gateway-error.js";
import type { Principal } from "./principal.js";

/**
 * What a tool does, for the guard. Non-destructive mode refuses every class but `read` and
 * `session` unless `--allow-operations` names it; dry-run mode lets create, apply, patch, scale
 * and delete through as server-side dry runs, and still refuses exec and port-forward.
 */
export const operationClasses = [
  "read",
  "session",
  "create",
  "apply",
  "patch",
  "scale",
  "delete",
  "exec",
  "port-forward",
] as const;
export type OperationClass = (typeof operationClasses)[number];

/** The operations that change something or reach into a workload; named in `--allow-operations`. */
export const guardedOperations = ["create", "apply", "patch", "scale", "delete", "exec", "port-forward"] as const;
export type GuardedOperation = (typeof guardedOperations)[number];

/** Operations a server-side dry run can stand in for. */
export const dryRunnableOperations: readonly GuardedOperation[] = ["create", "apply", "patch", "scale", "delete"];

export function isGuardedOperation(operation: OperationClass): operation is GuardedOperation {
  return (guardedOperations as readonly string[]).includes(operation);
}

export interface ToolAnnotations {
  readonly readOnlyHint: boolean;
  readonly destructiveHint: boolean;
  readonly idempotentHint: boolean;
  readonly openWorldHint: boolean;
}

/** What a call touched, for the audit record and spans. */
export interface ToolTarget {
  readonly cluster?: string;
  readonly namespace?: string;
  readonly kind?: string;
  readonly name?: string;
}

export interface ToolResult {
  /** The answer, written for a model. */
  readonly text: string;
  /** The same answer as data, when it has a useful structure. */
  readonly structured?: Record<string, unknown>;
  readonly target?: ToolTarget;
  /** True when a mutation ran as a server-side dry run. */
  readonly dryRun?: boolean;
}

export interface PortForwardEntry {
  readonly id: string;
  readonly cluster: string;
  readonly handle: PortForwardHandle;
  readonly startedAt: Date;
}

/** Port-forwards live in an MCP session and end with it. */
export interface PortForwardRegistry {
  add(cluster: string, handle: PortForwardHandle): PortForwardEntry;
  list(): readonly PortForwardEntry[];
  /** Stops and forgets one; false when there is no such id in this session. */
  stop(id: string): Promise<boolean>;
  stopAll(): Promise<void>;
}

/** State of one MCP session: its current cluster and its port-forwards. Never global. */
export interface SessionState {
  readonly id: string | undefined;
  currentCluster: string | undefined;
  readonly portForwards: PortForwardRegistry;
}

export interface ToolSettings {
  /** Server-side dry run for every mutation. */
  readonly dryRun: boolean;
  /** Upper bound on an answer's text, in bytes. */
  readonly outputBudgetBytes: number;
  readonly execTimeoutMilliseconds: number;
  readonly execMaxOutputBytes: number;
  readonly logMaxBytes: number;
  readonly logDefaultTailLines: number;
  /** Clusters queried at once by a fleet-wide list. */
  readonly fanoutConcurrency: number;
  /** Bound on each cluster's part of a fleet-wide list; a slow cluster fails alone. */
  readonly fanoutTimeoutMilliseconds: number;
  /** Told once per fleet-wide call how it went (for the metrics): no cluster names, only counts and codes. */
  readonly onFanOut?: (report: FanOutReport) => void;
}

/** How one fleet-wide call went: how many clusters, which failed with what code, how long it took. */
export interface FanOutReport {
  readonly clusters: number;
  readonly failures: readonly { readonly code: GatewayErrorCode }[];
  readonly durationMilliseconds: number;
}

/**
 * Seals a position a tool pages by itself (not an API server's list, whose tokens the guarded
 * access already seals) into an opaque continue token, and opens it again. A token is bound to
 * the caller, the tool and `query` (the listing's filters, without its page size): it discloses
 * nothing, and an edited token, another user's, another tool's or another query's fails to open.
 */
export interface ToolContinueTokens {
  seal(position: string, query: string): string;
  /** The position sealed in `token`; a tampered, foreign or stale token is an `invalid_input` error. */
  open(token: string, query: string): string;
}

export interface ToolContext {
  /** Clusters as this caller may see them, already wrapped by the guard. */
  readonly clusters: ClusterCatalog;
  /** Sealed continue tokens for this caller and tool, provided by the guard. */
  readonly continueTokens: ToolContinueTokens;
  readonly session: SessionState;
  readonly principal: Principal | undefined;
  readonly settings: ToolSettings;
  readonly signal: AbortSignal;
}

// biome-ignore lint/suspicious/noExplicitAny: a tool's input shape is checked where the tool is defined.
export type AnyShape = Record<string, z.ZodType<any>>;

export interface ToolDefinition<Shape extends AnyShape = AnyShape> {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly operation: OperationClass;
  readonly annotations: ToolAnnotations;
  readonly input: z.ZodObject<Shape>;
  handler(input: z.output<z.ZodObject<Shape>>, context: ToolContext): Promise<ToolResult>;
}

/** Keeps a tool's input type tied to its schema. */
export function defineTool<Shape extends AnyShape>(definition: ToolDefinition<Shape>): ToolDefinition<Shape> {
  return definition;
}
