import { describe, expect, it } from "vitest";
import { createFakeWatchTransport, eventually, object } from "./testing/fake-watch-transport.js";
import { KubeHttpError, KubeTransportError } from "./transport-error.js";
import {
  backoffDelay,
  createWatchEventParser,
  type WatchEvent,
  WatchExpiredError,
  type WatchOptions,
  WatchStreamError,
  watchList,
} from "./watch.js";

const line = (type: string, name: string, resourceVersion: string) =>
  `${JSON.stringify({ type, object: object(name, resourceVersion) })}\n`;

describe("the watch stream parser", () => {
  it("joins an event split across chunks, even inside a multi-byte character", () => {
    const parser = createWatchEventParser();
    const bytes = Buffer.from(
      `${JSON.stringify({ type: "ADDED", object: { metadata: { name: "café", resourceVersion: "5" } } })}\n`,
    );
    const cut = bytes.indexOf(Buffer.from("é")) + 1;
    expect(parser.push(bytes.subarray(0, cut))).toEqual([]);
    const events = parser.push(bytes.subarray(cut));
    expect(events).toEqual([{ type: "ADDED", object: { metadata: { name: "café", resourceVersion: "5" } } }]);
    parser.end();
  });

  it("returns every event of a chunk in order and skips blank lines", () => {
    const parser = createWatchEventParser();
    const events = parser.push(Buffer.from(`${line("ADDED", "a", "1")}\n${line("MODIFIED", "a", "2")}`));
    expect(events.map((event) => [event.type, event.object.metadata?.resourceVersion])).toEqual([
      ["ADDED", "1"],
      ["MODIFIED", "2"],
    ]);
  });

  it("refuses a line that is not JSON without quoting it", () => {
    const parser = createWatchEventParser();
    const error = (() => {
      try {
        parser.push(Buffer.from('{"type":"ADDED","object":{"data":{"password":"hunter2"}\n'));
      } catch (caught) {
        return caught as Error;
      }
      throw new Error("expected a failure");
    })();
    expect(error).toBeInstanceOf(WatchStreamError);
    expect(error.message).not.toContain("hunter2");
  });

  it("refuses an event of an unknown type or without an object", () => {
    expect(() => createWatchEventParser().push(Buffer.from('{"type":"SYNC","object":{}}\n'))).toThrow(WatchStreamError);
    expect(() => createWatchEventParser().push(Buffer.from('{"type":"ADDED"}\n'))).toThrow(WatchStreamError);
  });

  it("bounds an event that never ends instead of buffering it without limit", () => {
    const parser = createWatchEventParser({ maximumEventBytes: 64 });
    parser.push(Buffer.from(`{"type":"ADDED","object":{"a":"`));
    expect(() => parser.push(Buffer.alloc(64, "x"))).toThrow(/larger than 64 bytes/);
  });

  it("accepts a clean end and refuses a stream cut in the middle of an event", () => {
    const clean = createWatchEventParser();
    clean.push(Buffer.from(line("ADDED", "a", "1")));
    expect(() => clean.end()).not.toThrow();
    const cut = createWatchEventParser();
    cut.push(Buffer.from('{"type":"ADDED","obj'));
    expect(() => cut.end()).toThrow(WatchStreamError);
  });
});

describe("the reconnect backoff", () => {
  it("doubles per failure up to the cap", () => {
    const delays = [0, 1, 2, 3, 4, 10].map((attempt) =>
      backoffDelay(attempt, { initialMilliseconds: 100, maximumMilliseconds: 500 }, () => 1),
    );
    expect(delays).toEqual([100, 200, 400, 500, 500, 500]);
  });

  it("jitters between half and all of the delay", () => {
    expect(backoffDelay(2, { initialMilliseconds: 100 }, () => 0)).toBe(200);
    expect(backoffDelay(2, { initialMilliseconds: 100 }, () => 0.5)).toBe(300);
  });
});

function watchOptions(overrides: Partial<WatchOptions> & { signal: AbortSignal }): WatchOptions & {
  events: WatchEvent[];
  errors: { error: Error; retry: number }[];
} {
  const events: WatchEvent[] = [];
  const errors: { error: Error; retry: number }[] = [];
  return {
    path: "/api/v1/namespaces/web/configmaps",
    timeoutSeconds: 60,
    backoff: { initialMilliseconds: 1, maximumMilliseconds: 4 },
    random: () => 1,
    onEvent: (event) => events.push(event),
    onError: (error, retry) => errors.push({ error, retry }),
    events,
    errors,
    ...overrides,
  };
}

describe("watchList", () => {
  it("asks for a bounded watch with bookmarks from the given version and delivers events in order", async () => {
    const transport = createFakeWatchTransport();
    const stop = new AbortController();
    const options = watchOptions({
      signal: stop.signal,
      resourceVersion: "10",
      labelSelector: "app=web",
      fieldSelector: "metadata.name=a",
    });
    const done = watchList(transport, options);
    const stream = await transport.nextStream(0);
    const query = stream.request.query;
    expect(Object.fromEntries(query ?? [])).toEqual({
      watch: "1",
      allowWatchBookmarks: "true",
      resourceVersion: "10",
      labelSelector: "app=web",
      fieldSelector: "metadata.name=a",
      timeoutSeconds: "60",
    });
    stream.send("ADDED", object("a", "11"));
    stream.send("MODIFIED", object("a", "12"));
    stream.send("BOOKMARK", { metadata: { resourceVersion: "13" } });
    stream.send("DELETED", object("a", "14"));
    await eventually(() => options.events.length === 4);
    expect(options.events.map((event) => event.type)).toEqual(["ADDED", "MODIFIED", "BOOKMARK", "DELETED"]);
    stop.abort();
    await done;
    expect(stream.closed).toBe(true);
  });

  it("reconnects after a broken stream from the last version seen, bookmarks included, after a backoff", async () => {
    const transport = createFakeWatchTransport();
    const stop = new AbortController();
    const options = watchOptions({ signal: stop.signal, resourceVersion: "10" });
    const done = watchList(transport, options);
    const first = await transport.nextStream(0);
    first.send("ADDED", object("a", "11"));
    first.send("BOOKMARK", { metadata: { resourceVersion: "15" } });
    await eventually(() => options.events.length === 2);
    first.fail(new KubeTransportError("unreachable", "socket hang up"));
    const second = await transport.nextStream(1);
    expect(second.request.query?.get("resourceVersion")).toBe("15");
    expect(options.errors).toHaveLength(1);
    expect(options.errors[0]?.error).toBeInstanceOf(KubeTransportError);
    expect(options.errors[0]?.retry).toBe(1);
    stop.abort();
    await done;
  });

  it("reopens at once, without reporting an error, after the server ends a stream normally", async () => {
    const transport = createFakeWatchTransport();
    const stop = new AbortController();
    const options = watchOptions({ signal: stop.signal, resourceVersion: "10" });
    const done = watchList(transport, options);
    const first = await transport.nextStream(0);
    first.send("MODIFIED", object("a", "20"));
    first.end();
    const second = await transport.nextStream(1);
    expect(second.request.query?.get("resourceVersion")).toBe("20");
    expect(options.errors).toEqual([]);
    stop.abort();
    await done;
  });

  it("backs off, growing to the cap, while the API server refuses connections", async () => {
    const transport = createFakeWatchTransport();
    const refused = () => new KubeTransportError("unreachable", "connect ECONNREFUSED 127.0.0.1:6443");
    transport.openFailures.push(refused(), refused(), refused(), refused());
    const stop = new AbortController();
    const options = watchOptions({ signal: stop.signal, resourceVersion: "7" });
    const done = watchList(transport, options);
    const stream = await transport.nextStream(0);
    expect(options.errors.map((entry) => entry.retry)).toEqual([1, 2, 4, 4]);
    expect(stream.request.query?.get("resourceVersion")).toBe("7");
    stop.abort();
    await done;
  });

  it("rejects with WatchExpiredError on an ERROR event with code 410, so the caller lists again", async () => {
    const transport = createFakeWatchTransport();
    const options = watchOptions({ signal: new AbortController().signal, resourceVersion: "3" });
    const done = watchList(transport, options);
    const stream = await transport.nextStream(0);
    stream.send("ERROR", {
      kind: "Status",
      status: "Failure",
      reason: "Expired",
      code: 410,
      message: "too old resource version: 3 (40)",
    } as never);
    await expect(done).rejects.toBeInstanceOf(WatchExpiredError);
    expect(stream.closed).toBe(true);
  });

  it("rejects with WatchExpiredError when the API server answers the opening with 410 Gone", async () => {
    const transport = createFakeWatchTransport();
    transport.openFailures.push(new KubeHttpError(410, '{"kind":"Status","code":410,"reason":"Gone"}'));
    const options = watchOptions({ signal: new AbortController().signal, resourceVersion: "3" });
    await expect(watchList(transport, options)).rejects.toBeInstanceOf(WatchExpiredError);
  });

  it("treats any other ERROR event as a failure and reconnects from the same version", async () => {
    const transport = createFakeWatchTransport();
    const stop = new AbortController();
    const options = watchOptions({ signal: stop.signal, resourceVersion: "3" });
    const done = watchList(transport, options);
    const first = await transport.nextStream(0);
    first.send("ERROR", { kind: "Status", code: 500, reason: "InternalError" } as never);
    const second = await transport.nextStream(1);
    expect(second.request.query?.get("resourceVersion")).toBe("3");
    expect(options.errors[0]?.error.message).toMatch(/code 500/);
    expect(options.events).toEqual([]);
    stop.abort();
    await done;
  });

  it("drops a stream that stays silent past the watchdog and opens a new one", async () => {
    const transport = createFakeWatchTransport();
    const stop = new AbortController();
    const options = watchOptions({ signal: stop.signal, resourceVersion: "3", idleTimeoutMilliseconds: 40 });
    const done = watchList(transport, options);
    const first = await transport.nextStream(0);
    const second = await transport.nextStream(1);
    expect(first.closed).toBe(true);
    expect(second.request.query?.get("resourceVersion")).toBe("3");
    const failure = options.errors[0]?.error;
    expect(failure).toBeInstanceOf(KubeTransportError);
    expect(failure instanceof KubeTransportError && failure.kind).toBe("timeout");
    stop.abort();
    await done;
  });

  it("backs off instead of spinning when every stream ends at once without events", async () => {
    const transport = createFakeWatchTransport();
    const stop = new AbortController();
    const options = watchOptions({ signal: stop.signal, resourceVersion: "3" });
    const done = watchList(transport, options);
    (await transport.nextStream(0)).end();
    (await transport.nextStream(1)).end();
    await transport.nextStream(2);
    expect(options.errors.map((entry) => entry.retry)).toEqual([1, 2]);
    stop.abort();
    await done;
  });
});
