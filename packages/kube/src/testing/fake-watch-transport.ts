// A scripted stand-in for a connection's `request` (lists) and `stream` (watches), for the watch
// and informer unit tests. Streams are fed by the test line by line and can end, fail or hang.
import type { KubeObject } from "@capi-mcp/core";
import type { KubeHttpRequest, KubeHttpResponse, KubeStreamRequest, KubeStreamResponse } from "../connection.js";
import type { WatchTransport } from "../watch.js";

export interface FakeStream {
  readonly request: KubeStreamRequest;
  /** Sends one watch event as a line. */
  send(type: string, object: KubeObject): void;
  /** Sends raw bytes. */
  sendRaw(text: string | Uint8Array): void;
  /** Ends the answer normally (the server's timeout). */
  end(): void;
  /** Breaks the connection. */
  fail(error?: Error): void;
  readonly closed: boolean;
}

export interface FakeWatchTransport extends WatchTransport {
  readonly listRequests: KubeHttpRequest[];
  readonly streamRequests: KubeStreamRequest[];
  /** Answers lists; return an Error to fail the call. */
  onList: (request: KubeHttpRequest) => unknown;
  /** Failures for the next stream openings, in order (undefined: open normally). */
  readonly openFailures: (Error | undefined)[];
  /** The streams opened so far. */
  readonly streams: FakeStream[];
  /** Waits for the stream with this index (0-based) to be opened. */
  nextStream(index: number, timeoutMilliseconds?: number): Promise<FakeStream>;
}

type Item = Uint8Array | Error | "end";

function controlledStream(request: KubeStreamRequest): { stream: FakeStream; response: KubeStreamResponse } {
  const queue: Item[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  const push = (item: Item) => {
    queue.push(item);
    wake?.();
    wake = undefined;
  };
  request.signal?.addEventListener("abort", () => push(new Error("This operation was aborted")), { once: true });
  async function* body(): AsyncGenerator<Uint8Array> {
    while (true) {
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const item = queue.shift() as Item;
      if (item === "end") return;
      if (item instanceof Error) throw item;
      yield item;
    }
  }
  const stream: FakeStream = {
    request,
    send: (type, object) => push(Buffer.from(`${JSON.stringify({ type, object })}\n`)),
    sendRaw: (text) => push(typeof text === "string" ? Buffer.from(text) : text),
    end: () => push("end"),
    fail: (error) => push(error ?? new Error("socket hang up")),
    get closed() {
      return closed;
    },
  };
  return {
    stream,
    response: {
      contentType: "application/json",
      body: body(),
      close: () => {
        closed = true;
        push("end");
      },
    },
  };
}

export function createFakeWatchTransport(): FakeWatchTransport {
  const streams: FakeStream[] = [];
  const waiters: { index: number; resolve: (stream: FakeStream) => void }[] = [];
  const transport: FakeWatchTransport = {
    listRequests: [],
    streamRequests: [],
    onList: () => ({ metadata: { resourceVersion: "1" }, items: [] }),
    openFailures: [],
    streams,
    async request(request: KubeHttpRequest): Promise<KubeHttpResponse> {
      transport.listRequests.push(request);
      const answer = transport.onList(request);
      if (answer instanceof Error) throw answer;
      return {
        status: 200,
        contentType: "application/json",
        body: Buffer.from(JSON.stringify(answer)),
        truncated: false,
      };
    },
    async stream(request: KubeStreamRequest): Promise<KubeStreamResponse> {
      transport.streamRequests.push(request);
      const failure = transport.openFailures.shift();
      if (failure) throw failure;
      const { stream, response } = controlledStream(request);
      streams.push(stream);
      for (const waiter of waiters.filter((candidate) => candidate.index === streams.length - 1)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(stream);
      }
      return response;
    },
    nextStream(index, timeoutMilliseconds = 2000) {
      const existing = streams[index];
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`stream ${index} was not opened within ${timeoutMilliseconds} ms`)),
          timeoutMilliseconds,
        );
        waiters.push({
          index,
          resolve: (stream) => {
            clearTimeout(timer);
            resolve(stream);
          },
        });
      });
    },
  };
  return transport;
}

export function object(name: string, resourceVersion: string, extra: Partial<KubeObject> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    ...extra,
    metadata: { name, namespace: "web", uid: `uid-${name}`, resourceVersion, ...(extra.metadata ?? {}) },
  };
}

/** Polls until `check` holds (the loops under test run on real, short timers). */
export async function eventually(check: () => boolean, timeoutMilliseconds = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMilliseconds;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("the condition did not hold in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
