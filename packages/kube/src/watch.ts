// Kubernetes watches: a streaming GET whose answer is one JSON event per line. This file holds
// the line parser and `watchList`, one watch kept open across disconnects. Relisting (after a
// 410) is the informer's job (`informer.ts`), since only it knows what it had seen.
import { setTimeout as sleep } from "node:timers/promises";
import type { KubeObject } from "@capi-mcp/core";
import type { KubeHttpRequest, KubeHttpResponse, KubeStreamRequest, KubeStreamResponse } from "./connection.js";
import { KubeHttpError, KubeTransportError } from "./transport-error.js";

/** What a watch needs from a connection; `KubeConnection` provides it, tests provide fakes. */
export interface WatchTransport {
  request(request: KubeHttpRequest): Promise<KubeHttpResponse>;
  stream(request: KubeStreamRequest): Promise<KubeStreamResponse>;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface WatchEvent {
  readonly type: WatchEventType;
  /** The object, a `Status` for ERROR, or only `metadata.resourceVersion` for BOOKMARK. */
  readonly object: KubeObject;
}

const eventTypes: ReadonlySet<string> = new Set<WatchEventType>(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]);

/**
 * The resource version the watch started from is older than the API server still remembers
 * (HTTP 410, or an ERROR event with code 410): the caller must list again.
 */
export class WatchExpiredError extends Error {
  constructor(message = "the watch's resource version is too old; list again") {
    super(message);
    this.name = "WatchExpiredError";
  }
}

/**
 * The stream broke the watch protocol (a line that is not a JSON event, one that is too long) or
 * the server sent an ERROR event other than 410. Messages never quote the stream: a line may be
 * a Secret.
 */
export class WatchStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WatchStreamError";
  }
}

export interface WatchEventParser {
  /** Feeds bytes; returns the events completed by them, in order. */
  push(chunk: Uint8Array): WatchEvent[];
  /** The stream ended: fails if it stopped in the middle of an event. */
  end(): void;
}

const newline = 0x0a;
const defaultMaximumEventBytes = 16 * 1024 * 1024;

function parseEventLine(line: Buffer): WatchEvent | undefined {
  const text = line.toString("utf8").trim();
  if (text === "") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new WatchStreamError("the watch stream carried a line that is not JSON");
  }
  if (typeof parsed !== "object" || parsed === null) {
    throw new WatchStreamError("the watch stream carried a line that is not an event object");
  }
  const { type, object } = parsed as { type?: unknown; object?: unknown };
  if (typeof type !== "string" || !eventTypes.has(type)) {
    throw new WatchStreamError(`the watch stream carried an event of unknown type ${JSON.stringify(String(type))}`);
  }
  if (typeof object !== "object" || object === null || Array.isArray(object)) {
    throw new WatchStreamError(`the watch stream carried a ${type} event without an object`);
  }
  return { type: type as WatchEventType, object: object as KubeObject };
}

/**
 * Splits a watch answer into events. Lines are cut at the newline byte, which never occurs
 * inside a multi-byte UTF-8 character, so a character split across chunks is kept whole.
 */
export function createWatchEventParser(options: { readonly maximumEventBytes?: number } = {}): WatchEventParser {
  const maximum = options.maximumEventBytes ?? defaultMaximumEventBytes;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  return {
    push(chunk) {
      const events: WatchEvent[] = [];
      let buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      let index = buffer.indexOf(newline);
      while (index !== -1) {
        const piece = buffer.subarray(0, index);
        const line = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
        pending = [];
        pendingBytes = 0;
        if (line.length > maximum) throw new WatchStreamError(`a watch event is larger than ${maximum} bytes`);
        const event = parseEventLine(line);
        if (event) events.push(event);
        buffer = buffer.subarray(index + 1);
        index = buffer.indexOf(newline);
      }
      if (buffer.length > 0) {
        pendingBytes += buffer.length;
        // Bounded before the newline arrives, so a stream without newlines cannot fill memory.
        if (pendingBytes > maximum) throw new WatchStreamError(`a watch event is larger than ${maximum} bytes`);
        // Copied: the transport may reuse the chunk's memory.
        pending.push(Buffer.from(buffer));
      }
      return events;
    },
    end() {
      const rest = Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      if (rest.toString("utf8").trim() !== "") {
        // The last event may lack its newline; anything else is a cut stream.
        parseEventLine(rest);
        throw new WatchStreamError("the watch stream ended without a newline after its last event");
      }
    },
  };
}

export interface BackoffOptions {
  /** The first retry's delay (default 500 ms); each failure in a row doubles it. */
  readonly initialMilliseconds?: number;
  /** The cap (default 30 s). */
  readonly maximumMilliseconds?: number;
}

/**
 * The delay before retry number `attempt` (0-based): exponential, capped, and jittered to
 * between half and all of it, so many watchers that lost the same API server do not return to
 * it in step.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const initial = options.initialMilliseconds ?? 500;
  const maximum = options.maximumMilliseconds ?? 30_000;
  const ceiling = Math.min(maximum, initial * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

export interface WatchOptions {
  /** The collection's API path (`/api/v1/namespaces/web/pods`, `/apis/cluster.x-k8s.io/v1beta2/clusters`). */
  readonly path: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /**
   * Where the watch starts (usually a list's `metadata.resourceVersion`). Without one the server
   * starts from "now", so changes before the first event may be missed: list first.
   */
  readonly resourceVersion?: string;
  /** The media type asked for; e.g. `application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1` for metadata only. */
  readonly accept?: string;
  /** How long the API server keeps one stream open (default 5 to 10 min, chosen per stream). */
  readonly timeoutSeconds?: number;
  /** A stream silent this long is dropped and reopened (default: the server's timeout plus 30 s). */
  readonly idleTimeoutMilliseconds?: number;
  readonly backoff?: BackoffOptions;
  readonly maximumEventBytes?: number;
  /** Ends the watch; `watchList` then resolves. */
  readonly signal: AbortSignal;
  /** ADDED, MODIFIED, DELETED and BOOKMARK events, in order. ERROR events are handled here. */
  readonly onEvent: (event: WatchEvent) => void;
  /** A stream failed or was refused; the watch reconnects after `retryInMilliseconds`. */
  readonly onError?: (error: Error, retryInMilliseconds: number) => void;
  /** Replaceable in tests; in [0, 1). */
  readonly random?: () => number;
}

// A stream that ends sooner than this without delivering anything counts as a failure, so a
// server that closes every watch at once is retried with backoff rather than in a tight loop.
const minimumHealthyStreamMilliseconds = 1000;
const idleMargin = 30_000;

function statusOf(object: KubeObject): { code?: unknown; reason?: unknown; message?: unknown } {
  return object as { code?: unknown; reason?: unknown; message?: unknown };
}

function isExpired(status: { code?: unknown; reason?: unknown }): boolean {
  return status.code === 410 || status.reason === "Expired" || status.reason === "Gone";
}

function httpStatusObject(error: KubeHttpError): { code?: unknown; reason?: unknown } {
  try {
    const body = JSON.parse(error.body) as { code?: unknown; reason?: unknown };
    return typeof body === "object" && body !== null ? body : {};
  } catch {
    return {};
  }
}

async function pause(milliseconds: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(milliseconds, undefined, { signal });
  } catch {
    // Aborted: the caller checks the signal.
  }
}

/** One stream from open to end. Resolves on a normal end; throws on anything else. */
async function streamOnce(
  transport: WatchTransport,
  options: WatchOptions,
  resourceVersion: string | undefined,
  onEvent: (event: WatchEvent) => void,
): Promise<void> {
  const random = options.random ?? Math.random;
  const timeoutSeconds = options.timeoutSeconds ?? Math.floor(300 * (1 + random()));
  const idleMilliseconds = options.idleTimeoutMilliseconds ?? timeoutSeconds * 1000 + idleMargin;
  const query = new URLSearchParams({ watch: "1", allowWatchBookmarks: "true" });
  if (resourceVersion) query.set("resourceVersion", resourceVersion);
  if (options.labelSelector) query.set("labelSelector", options.labelSelector);
  if (options.fieldSelector) query.set("fieldSelector", options.fieldSelector);
  query.set("timeoutSeconds", String(timeoutSeconds));

  const local = new AbortController();
  const signal = AbortSignal.any([options.signal, local.signal]);
  let idle = false;
  let watchdog: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      idle = true;
      local.abort();
    }, idleMilliseconds);
  };
  arm();
  let response: KubeStreamResponse | undefined;
  try {
    response = await transport.stream({
      path: options.path,
      query,
      ...(options.accept ? { accept: options.accept } : {}),
      signal,
    });
    const parser = createWatchEventParser(
      options.maximumEventBytes === undefined ? {} : { maximumEventBytes: options.maximumEventBytes },
    );
    for await (const chunk of response.body) {
      arm();
      for (const event of parser.push(chunk)) {
        if (event.type === "ERROR") {
          const status = statusOf(event.object);
          if (isExpired(status)) throw new WatchExpiredError();
          throw new WatchStreamError(
            `the watch ended with an error (code ${String(status.code ?? "none")}, reason ${String(status.reason ?? "none")})`,
          );
        }
        onEvent(event);
      }
      if (signal.aborted) break;
    }
    if (!signal.aborted) parser.end();
  } catch (error) {
    if (idle) throw new KubeTransportError("timeout", `the watch was silent for ${idleMilliseconds} ms`);
    if (error instanceof KubeHttpError && (error.status === 410 || isExpired(httpStatusObject(error)))) {
      throw new WatchExpiredError();
    }
    throw error;
  } finally {
    clearTimeout(watchdog);
    response?.close();
  }
  if (idle) throw new KubeTransportError("timeout", `the watch was silent for ${idleMilliseconds} ms`);
}

/**
 * Watches a collection until `signal` aborts (then resolves), reopening the stream whenever it
 * ends or fails: at once after a normal end (the server's `timeoutSeconds`), with capped,
 * jittered backoff after a failure, always from the last resource version seen (events and
 * bookmarks). Rejects with `WatchExpiredError` when that version is too old (HTTP 410): the
 * caller lists again and starts a new watch from the list's version.
 */
export async function watchList(transport: WatchTransport, options: WatchOptions): Promise<void> {
  let resourceVersion = options.resourceVersion;
  let failures = 0;
  while (!options.signal.aborted) {
    const openedAt = performance.now();
    let delivered = false;
    try {
      await streamOnce(transport, options, resourceVersion, (event) => {
        delivered = true;
        const version = event.object.metadata?.resourceVersion;
        if (typeof version === "string" && version !== "") resourceVersion = version;
        options.onEvent(event);
      });
      if (options.signal.aborted) return;
      if (delivered || performance.now() - openedAt >= minimumHealthyStreamMilliseconds) {
        failures = 0;
        continue;
      }
      // An empty stream that ended at once: treat as a failure so it is not reopened in a loop.
      const delay = backoffDelay(failures, options.backoff, options.random);
      failures += 1;
      options.onError?.(new WatchStreamError("the watch stream ended at once without events"), delay);
      await pause(delay, options.signal);
    } catch (error) {
      if (options.signal.aborted) return;
      if (error instanceof WatchExpiredError) throw error;
      if (delivered) failures = 0;
      const delay = backoffDelay(failures, options.backoff, options.random);
      failures += 1;
      options.onError?.(error instanceof Error ? error : new Error(String(error)), delay);
      await pause(delay, options.signal);
    }
  }
}
