import { openSync } from "node:fs";
import type { AuditEvent, AuditSink, AuthorizationAuditEvent } from "@capi-mcp/core";
import { GatewayError } from "@capi-mcp/core";
import { destination as pinoDestination } from "pino";

export interface AuditSinkOptions {
  /** `stderr`, or the path of a file to append JSON lines to (created with mode 0600). */
  readonly destination: string;
  /**
   * Told when a record cannot be written. Defaults to a process warning, which Node prints to
   * stderr: a lost audit record must never pass unnoticed, nor fail the tool call it records.
   */
  readonly onError?: (error: Error) => void;
}

// The stdio transport owns stdout for protocol messages; one stray line there breaks the
// client's session, so every spelling of stdout is refused up front.
const stdoutNames = new Set(["stdout", "-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"]);

const stderrFileDescriptor = 2;

function warn(error: Error): void {
  process.emitWarning(`capi-mcp audit sink: ${error.message}`, { code: "CAPI_MCP_AUDIT" });
}

function openAppend(path: string): number {
  try {
    // Audit records name users and what they did; nobody but the gateway's user reads them.
    return openSync(path, "a", 0o600);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unknown error";
    throw new GatewayError("invalid_input", `The audit log file ${path} cannot be opened for appending (${reason}).`, {
      cause: error,
    });
  }
}

function serialize(event: AuditEvent): string {
  try {
    return JSON.stringify(event);
  } catch {
    // Arguments come from a parsed request and should always serialize; if one ever does not
    // (a cycle, a bigint), the record is still written, without them.
    return JSON.stringify({ ...event, arguments: { unserializable: "<arguments could not be serialized>" } });
  }
}

/**
 * Writes one JSON line per AuditEvent, synchronously, to stderr or a file: a record is on its
 * way to the disk before the call's answer is, and nothing is left in a buffer if the process
 * dies. Never writes to stdout.
 */
export function createAuditSink(options: AuditSinkOptions): AuditSink {
  const target = options.destination.trim();
  if (target === "")
    throw new GatewayError("invalid_input", "The audit log destination is empty: use stderr or a file path.");
  if (stdoutNames.has(target)) {
    throw new GatewayError(
      "invalid_input",
      `The audit log cannot go to ${target}: stdout carries the stdio transport's protocol. Use stderr or a file path.`,
    );
  }
  const report = options.onError ?? warn;
  const stream = pinoDestination({
    fd: target === "stderr" ? stderrFileDescriptor : openAppend(target),
    sync: true,
  });
  stream.on("error", (error: Error) => report(error));
  let closing: Promise<void> | undefined;

  function write(what: string, line: () => string): void {
    if (closing !== undefined) {
      report(new Error(`${what} arrived after the sink was closed and was not written`));
      return;
    }
    try {
      stream.write(`${line()}\n`);
    } catch (error) {
      report(error instanceof Error ? error : new Error(String(error)));
    }
  }

  return {
    record(event: AuditEvent): void {
      write(`a record for ${event.tool}`, () => serialize(event));
    },
    recordAuthorization(event: AuthorizationAuditEvent): void {
      // Marked apart from tool-call records, which have no `audit` field, so one trail holds both.
      write(`an authorization record (${event.type})`, () => JSON.stringify({ audit: "authorization", ...event }));
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        // Closing flushes and fsyncs; for stderr it leaves the descriptor open.
        stream.once("close", () => resolve());
        // A failing close has already been reported by the error listener; waiting on would hang.
        stream.once("error", () => resolve());
        stream.end();
      });
      return closing;
    },
  };
}
