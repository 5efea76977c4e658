import type { AuditEvent, AuditSink, AuthorizationAuditEvent } from "@capi-mcp/core";
import { GatewayError } from "@capi-mcp/core";
import { type AuditFile, openAuditFile, writeFully } from "./audit-file.js";

export interface AuditSinkOptions {
  /** A standard stream to write JSON lines to; omit (or `none`) for none. */
  readonly stream?: "stdout" | "stderr" | "none";
  /** A file to append JSON lines to (created with mode 0600), rotated by size. */
  readonly file?: {
    readonly path: string;
    /** Rotate before the file passes this many bytes; 0 never rotates (default 100 MiB). */
    readonly maxBytes?: number;
    /** Rotated files kept (default 5). */
    readonly maxFiles?: number;
  };
  /** The stdio transport owns stdout: refuse it as a destination. */
  readonly stdoutCarriesProtocol?: boolean;
  /**
   * Told when an authorization record cannot be written (those never fail the sign-in they
   * record). Defaults to a process warning. Tool-call records throw instead: see `AuditSink`.
   */
  readonly onError?: (error: Error) => void;
}

const defaultMaxBytes = 100 * 1024 * 1024;
const defaultMaxFiles = 5;

// Spellings of stdout as a file path: the stream option is the way to write there, and the stdio
// transport's protocol must never be interleaved with records.
const stdoutNames = new Set(["stdout", "-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"]);

const streamDescriptors = { stdout: 1, stderr: 2 } as const;

function warn(error: Error): void {
  process.emitWarning(`capi-mcp audit sink: ${error.message}`, { code: "CAPI_MCP_AUDIT" });
}

function openFile(options: NonNullable<AuditSinkOptions["file"]>): AuditFile {
  const path = options.path.trim();
  if (path === "") throw new GatewayError("invalid_input", "The audit log file path is empty.");
  if (stdoutNames.has(path)) {
    throw new GatewayError(
      "invalid_input",
      `The audit log file cannot be ${path}: write to stdout with --audit-log stdout (not on the stdio transport, whose protocol stdout carries).`,
    );
  }
  try {
    return openAuditFile({
      path,
      maxBytes: options.maxBytes ?? defaultMaxBytes,
      maxFiles: options.maxFiles ?? defaultMaxFiles,
    });
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unknown error";
    throw new GatewayError("invalid_input", `The audit log file ${path} cannot be opened for appending (${reason}).`, {
      cause: error,
    });
  }
}

/** Why a write failed, without the record's content. */
export class AuditWriteError extends Error {
  override readonly name = "AuditWriteError";
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
    requestHeaders:
      event.requestHeaders === undefined
        ? undefined
        : Object.fromEntries(
            boundEntries(
              Object.entries(event.requestHeaders).map(([key, value]): [string, string] => [
                boundLabel(key),
                boundLabel(value),
              ]),
              (count): [string, string] => ["…", `${count} more headers cut by the gateway`],
            ),
          ),
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

function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
}

/**
 * Writes one JSON line per record, synchronously, to a standard stream, a size-rotated file, or
 * both: a record is on its way to the disk before the call's answer is, and nothing is left in a
 * buffer if the process dies. A tool-call record that cannot be written to every destination
 * throws `AuditWriteError`, so a change is never sent unrecorded.
 */
export function createAuditSink(options: AuditSinkOptions): AuditSink {
  const stream = options.stream === "none" ? undefined : options.stream;
  if (stream === "stdout" && options.stdoutCarriesProtocol) {
    throw new GatewayError(
      "invalid_input",
      "The audit log cannot go to stdout: stdout carries the stdio transport's protocol. Use stderr or a file.",
    );
  }
  if (stream === undefined && options.file === undefined) {
    throw new GatewayError("invalid_input", "The audit log has no destination: choose stdout, stderr or a file.");
  }
  const file = options.file === undefined ? undefined : openFile(options.file);
  const report = options.onError ?? warn;
  let closed = false;

  function write(what: string, line: () => string): void {
    if (closed) throw new AuditWriteError(`${what} arrived after the sink was closed and was not written`);
    const bytes = `${line()}\n`;
    const failures: string[] = [];
    if (stream !== undefined) {
      try {
        writeFully(streamDescriptors[stream], Buffer.from(bytes, "utf8"));
      } catch (error) {
        failures.push(`${stream}: ${reasonOf(error)}`);
      }
    }
    if (file !== undefined) {
      try {
        file.append(bytes);
      } catch (error) {
        failures.push(`${options.file?.path}: ${reasonOf(error)}`);
      }
    }
    if (failures.length > 0) throw new AuditWriteError(`${what} could not be written (${failures.join("; ")})`);
  }

  return {
    record(event: AuditEvent): void {
      write(`a record for ${boundLabel(event.tool)}`, () => serialize(event));
    },
    recordAuthorization(event: AuthorizationAuditEvent): void {
      // Marked apart from tool-call records, which have no `audit` field, so one trail holds both.
      try {
        write(`an authorization record (${boundLabel(event.type)})`, () => serializeAuthorization(event));
      } catch (error) {
        report(error instanceof Error ? error : new Error(String(error)));
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      // Closing syncs the file; the standard streams stay open for the rest of the process.
      file?.close();
    },
  };
}
