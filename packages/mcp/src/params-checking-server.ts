// Every request the MCP server answers has its params checked here, once, for every method
// (initialize, ping, tools/list, tools/call and any added later): a request whose params do not
// fit the method's schema is answered with JSON-RPC -32602 "Invalid params" and a message naming
// the fields at fault. The SDK's own registration parses before its handler runs and lets the
// ZodError escape, which the protocol layer reports as -32603 "Internal error" with the raw issue
// dump: wrong for the client, and no help to a model.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { Protocol } from "@modelcontextprotocol/sdk/shared/protocol.js";
import { ErrorCode } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

/** JSON-RPC's own code for params that do not fit the method. */
export const invalidParamsCode = ErrorCode.InvalidParams;

const maximumIssuesNamed = 5;

interface Issue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** One cause per field, written as `params.name: expected string, received number`. */
export interface ParamsIssue {
  readonly field: string;
  readonly message: string;
}

/** An error the protocol layer sends as it is: its code and message become the JSON-RPC error. */
export class InvalidParamsError extends Error {
  readonly code = invalidParamsCode;
  readonly data: { readonly issues: readonly ParamsIssue[] };

  constructor(method: string, issues: readonly ParamsIssue[]) {
    const named = issues.slice(0, maximumIssuesNamed).map((issue) => `${issue.field}: ${issue.message}`);
    const more = issues.length > maximumIssuesNamed ? ` (and ${issues.length - maximumIssuesNamed} more)` : "";
    super(`Invalid params for ${method}: ${named.join("; ")}${more}.`);
    this.name = "InvalidParamsError";
    this.data = { issues: issues.slice(0, maximumIssuesNamed) };
  }
}

function fieldOf(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "params";
  return path
    .map((key) => (typeof key === "number" ? `[${key}]` : String(key)))
    .join(".")
    .replace(/\.\[/g, "[");
}

/**
 * Readable causes from zod issues. Messages say what was expected and what kind of value came,
 * never the value itself: params can carry anything, secrets included.
 */
export function paramsIssues(issues: readonly Issue[]): ParamsIssue[] {
  return issues.map((issue) => ({
    field: fieldOf(issue.path),
    message: issue.message.replace(/^Invalid input: /, ""),
  }));
}

interface SafeParsing {
  safeParse(value: unknown): { success: true; data: unknown } | { success: false; error: { issues: Issue[] } };
}

function methodOf(schema: unknown): string {
  const shape = (schema as { shape?: { method?: { value?: unknown } } }).shape;
  const method = shape?.method?.value;
  if (typeof method !== "string") throw new Error("A request schema must have a method literal.");
  return method;
}

/**
 * The SDK's low-level `Server`, with every request handler registered behind a params check.
 * Registration goes to the protocol layer with an envelope that only names the method, so the
 * SDK never parses the params itself; this class parses them with the method's own schema and
 * answers a failure as Invalid params.
 */
export class ParamsCheckingServer extends Server {
  override setRequestHandler(...[requestSchema, handler]: Parameters<Server["setRequestHandler"]>): void {
    const method = methodOf(requestSchema);
    const envelope = z.looseObject({ method: z.literal(method) });
    const parsing = requestSchema as unknown as SafeParsing;
    const register = Protocol.prototype.setRequestHandler as (
      this: Server,
      schema: unknown,
      handle: (request: unknown, extra: unknown) => unknown,
    ) => void;
    register.call(this, envelope, (request, extra) => {
      const parsed = parsing.safeParse(request);
      if (!parsed.success) {
        // Issues under `params` are the caller's; the method literal itself was matched already.
        throw new InvalidParamsError(method, paramsIssues(parsed.error.issues));
      }
      return (handler as (request: unknown, extra: unknown) => unknown)(parsed.data, extra);
    });
  }
}
