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

/** Bound on each label a record copies from the caller: client name and version, actor, target. */
export const longestRecordedLabel = 256;
/** Bound on each argument value as recorded (its JSON text, in bytes). */
export const longestRecordedArgumentBytes = 4096;
/** Bound on how many arguments and groups one record lists. */
const mostRecordedEntries = 64;

function cutMarker(more: number, unit: "characters" | "bytes"): string {
  return `… [${more} more ${unit} cut by the gateway]`;
}

/** `text` cut to `longest` code points, saying how much was cut. */
function boundLabel(text: string): string;
function boundLabel(text: string | undefined): string | undefined;
function boundLabel(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const codePoints = [...text];
  if (codePoints.length <= longestRecordedLabel) return text;
  return `${codePoints.slice(0, longestRecordedLabel).join("")}${cutMarker(codePoints.length - longestRecordedLabel, "characters")}`;
}

/** `text` cut to `longestRecordedArgumentBytes` UTF-8 bytes at a character boundary. */
function boundBytes(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.byteLength <= longestRecordedArgumentBytes) return text;
  // A character cut in half decodes as U+FFFD; drop it.
  const kept = bytes
    .subarray(0, longestRecordedArgumentBytes)
    .toString("utf8")
    .replace(/\uFFFD$/, "");
  return `${kept}${cutMarker(bytes.byteLength - Buffer.byteLength(kept, "utf8"), "bytes")}`;
}

/**
 * One argument as recorded: a string or a value whose JSON is within the bound is kept as it is;
 * a longer one becomes the start of its text with a marker saying how much was cut.
 */
function boundArgument(value: unknown): unknown {
  if (typeof value === "string") return boundBytes(value);
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    // Arguments come from a parsed request and should always serialize; if one ever does not
    // (a cycle, a bigint), the record is still written, without it.
    return "<argument could not be serialized>";
  }
  if (text === undefined || Buffer.byteLength(text, "utf8") <= longestRecordedArgumentBytes) return value;
  return boundBytes(text);
}

function boundEntries<T>(entries: readonly T[], more: (count: number) => T): T[] {
  if (entries.length <= mostRecordedEntries) return [...entries];
  return [...entries.slice(0, mostRecordedEntries), more(entries.length - mostRecordedEntries)];
}

function definedOnly<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}

/**
 * The record as written: every field the caller can make long (client info, actor, target, each
 * argument, the number of arguments) is bounded with a marker saying how much was cut, so one
 * call cannot make a record, or the trail, arbitrarily large.
 */
export function boundAuditEvent(event: AuditEvent): AuditEvent {
  const argumentEntries = boundEntries(
    Object.entries(event.arguments).map(([key, value]): [string, unknown] => [boundLabel(key), boundArgument(value)]),
    (count): [string, unknown] => ["…", `${count} more arguments cut by the gateway`],
  );
  return definedOnly({
    ...event,
    sessionId: boundLabel(event.sessionId),
    actor: definedOnly({
      ...event.actor,
      username: boundLabel(event.actor.username),
      subject: boundLabel(event.actor.subject),
      email: boundLabel(event.actor.email),
      groups: boundEntries(
        event.actor.groups.map((group) => boundLabel(group)),
        (count) => `… [${count} more groups cut by the gateway]`,
      ),
    }),
    client: definedOnly({
      name: boundLabel(event.client.name),
      version: boundLabel(event.client.version),
      oauthClientId: boundLabel(event.client.oauthClientId),
    }),
    tool: boundLabel(event.tool),
    cluster: boundLabel(event.cluster),
    namespace: boundLabel(event.namespace),
    kind: boundLabel(event.kind),
    name: boundLabel(event.name),
    arguments: Object.fromEntries(argumentEntries),
  });
}

function serialize(event: AuditEvent): string {
  return JSON.stringify(boundAuditEvent(event));
}

/** An authorization record as written: each field bounded like an argument. */
function serializeAuthorization(event: AuthorizationAuditEvent): string {
  const bounded = Object.fromEntries(
    Object.entries(event).map(([key, value]) => [boundLabel(key), boundArgument(value)]),
  );
  return JSON.stringify({ audit: "authorization", ...bounded });
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
      write(`a record for ${boundLabel(event.tool)}`, () => serialize(event));
    },
    recordAuthorization(event: AuthorizationAuditEvent): void {
      // Marked apart from tool-call records, which have no `audit` field, so one trail holds both.
      write(`an authorization record (${boundLabel(event.type)})`, () => serializeAuthorization(event));
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
