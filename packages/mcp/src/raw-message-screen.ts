// What the transports check on a raw message before the SDK sees it. The SDK drops a request whose
// params are not an object as an unreadable message (silence on stdio, -32700 "Parse error" on
// HTTP), so the caller never learns which part was wrong. Those get -32602 naming `params`, with
// the request's own id; a line that is not JSON at all gets -32700 on stdio too.
import { ErrorCode, InitializeRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { InvalidParamsError, paramsIssues } from "./params-checking-server.js";

export interface JsonRpcErrorAnswer {
  readonly jsonrpc: "2.0";
  readonly id: string | number | null;
  readonly error: { readonly code: number; readonly message: string };
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** The error answer a raw request needs before it reaches the SDK, or undefined to pass it on. */
export function screenRawMessage(message: unknown): JsonRpcErrorAnswer | undefined {
  if (typeof message !== "object" || message === null || Array.isArray(message)) return undefined;
  const { id, method, params } = message as Record<string, unknown>;
  if (typeof method !== "string" || (typeof id !== "string" && typeof id !== "number")) return undefined;
  if (params === undefined || kindOf(params) === "object") return undefined;
  return {
    jsonrpc: "2.0",
    id,
    error: {
      code: ErrorCode.InvalidParams,
      message: `Invalid params for ${method.slice(0, 100)}: params: expected an object, received ${kindOf(params)}.`,
    },
  };
}

/** The answer to a stdio line that is not JSON: JSON-RPC's parse error, since no id can be read. */
export const parseErrorAnswer: JsonRpcErrorAnswer = {
  jsonrpc: "2.0",
  id: null,
  error: { code: ErrorCode.ParseError, message: "Parse error: each line must be one JSON-RPC message." },
};

/**
 * An `initialize` that opens no session yet is checked by the HTTP transport before any server
 * exists: the SDK would call it "not initialized" (-32000). Its params get the same -32602 as
 * every other method's.
 */
export function screenInitialize(message: unknown): JsonRpcErrorAnswer | undefined {
  if (typeof message !== "object" || message === null || Array.isArray(message)) return undefined;
  const { id, method } = message as Record<string, unknown>;
  if (method !== "initialize" || (typeof id !== "string" && typeof id !== "number")) return undefined;
  const parsed = InitializeRequestSchema.safeParse(message);
  if (parsed.success) return undefined;
  const error = new InvalidParamsError(method, paramsIssues(parsed.error.issues));
  return { jsonrpc: "2.0", id, error: { code: error.code, message: error.message } };
}
