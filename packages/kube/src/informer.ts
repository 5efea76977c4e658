// An informer: list a collection, then watch it, keeping an in-memory copy current. Readers ask
// the copy (no API call); subscribers get added / modified / deleted. After anything that may
// have lost events (a 410, a periodic resync) it lists again and reports the difference.
import { setTimeout as sleep } from "node:timers/promises";
import type { KubeObject } from "@capi-mcp/core";
import { KubeHttpError } from "./transport-error.js";
import {
  type BackoffOptions,
  backoffDelay,
  type WatchEvent,
  WatchExpiredError,
  WatchStreamError,
  type WatchTransport,
  watchList,
} from "./watch.js";

export type InformerChangeType = "added" | "modified" | "deleted";

export interface InformerChange {
  readonly type: InformerChangeType;
  /** The object now; for `deleted`, its last known state. */
  readonly object: KubeObject;
  /** For `modified`, the state before. */
  readonly previous?: KubeObject;
}

export interface InformerErrorContext {
  /** What failed: the list, the watch stream, or a subscriber. */
  readonly phase: "list" | "watch" | "listener";
  /** When the informer tries again, if it does. */
  readonly retryInMilliseconds?: number;
}

export interface InformerOptions {
  /** The collection's API path (`/api/v1/namespaces/org-acme/secrets`). */
  readonly path: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /**
   * Ask for metadata only (`PartialObjectMetadata`): the objects' bodies, such as a Secret's
   * data, never leave the API server. There is deliberately no fallback to full objects.
   */
  readonly metadataOnly?: boolean;
  /** Applied to every object before it is kept or reported (drop what is not needed). */
  readonly transform?: (object: KubeObject) => KubeObject;
  /** List again this often and report the difference (default: never; 410s still relist). */
  readonly resyncMilliseconds?: number;
  /** Objects per list page (default 500). */
  readonly pageSize?: number;
  readonly timeoutSeconds?: number;
  readonly idleTimeoutMilliseconds?: number;
  readonly backoff?: BackoffOptions;
  readonly onError?: (error: Error, context: InformerErrorContext) => void;
  /** Replaceable in tests; in [0, 1). */
  readonly random?: () => number;
}

export interface Informer {
  /** Resolves after the first full list; rejects only if the informer is stopped before that. */
  readonly synced: Promise<void>;
  hasSynced(): boolean;
  /** The objects now known, in key order. */
  list(): readonly KubeObject[];
  /** By `namespace/name` (`/name` for cluster-scoped objects). */
  get(key: string): KubeObject | undefined;
  /** The last resource version seen (list, event or bookmark). */
  readonly resourceVersion: string | undefined;
  /** Subscribes; returns the unsubscribe function. Subscribe right after creating to see the first list's objects. */
  onChange(listener: (change: InformerChange) => void): () => void;
  /** Stops listing and watching; resolves when the loop has ended. */
  stop(): Promise<void>;
}

const metadataListMediaType = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
const metadataMediaType = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";

export function objectKey(object: KubeObject): string {
  return `${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
}

interface ListPage {
  metadata?: { continue?: string; resourceVersion?: string };
  items?: KubeObject[];
}

async function pause(milliseconds: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(milliseconds, undefined, { signal });
  } catch {
    // Aborted: the loop checks the signal.
  }
}

/** Lists then watches `options.path`, from the moment it is created until `stop()`. */
export function createInformer(transport: WatchTransport, options: InformerOptions): Informer {
  const store = new Map<string, KubeObject>();
  const listeners = new Set<(change: InformerChange) => void>();
  const stopping = new AbortController();
  const transform = options.transform ?? ((object: KubeObject) => object);
  const random = options.random ?? Math.random;
  let resourceVersion: string | undefined;
  let synced = false;
  const { promise: syncedPromise, resolve: resolveSynced, reject: rejectSynced } = Promise.withResolvers<void>();
  // Nobody may be waiting when a never-synced informer stops; that is not an unhandled failure.
  syncedPromise.catch(() => undefined);

  function report(error: unknown, context: InformerErrorContext): void {
    options.onError?.(error instanceof Error ? error : new Error(String(error)), context);
  }

  function emit(change: InformerChange): void {
    for (const listener of [...listeners]) {
      try {
        listener(change);
      } catch (error) {
        // One faulty subscriber must not stop the informer or starve the others.
        report(error, { phase: "listener" });
      }
    }
  }

  function upsert(object: KubeObject): void {
    const key = objectKey(object);
    const previous = store.get(key);
    store.set(key, object);
    if (!previous) {
      emit({ type: "added", object });
    } else if (previous.metadata?.uid !== object.metadata?.uid) {
      // Deleted and created again under the same name while we were not looking.
      emit({ type: "deleted", object: previous });
      emit({ type: "added", object });
    } else if (previous.metadata?.resourceVersion !== object.metadata?.resourceVersion) {
      emit({ type: "modified", object, previous });
    }
  }

  function remove(key: string, lastState: KubeObject | undefined): void {
    const previous = store.get(key);
    if (!previous) return;
    store.delete(key);
    emit({ type: "deleted", object: lastState ?? previous });
  }

  function apply(event: WatchEvent): void {
    const version = event.object.metadata?.resourceVersion;
    if (typeof version === "string" && version !== "") resourceVersion = version;
    if (event.type === "BOOKMARK" || event.type === "ERROR") return;
    const object = transform(event.object);
    if (event.type === "DELETED") remove(objectKey(object), object);
    else upsert(object);
  }

  async function listAll(): Promise<{ items: KubeObject[]; resourceVersion: string | undefined }> {
    const items: KubeObject[] = [];
    let continueToken: string | undefined;
    let version: string | undefined;
    do {
      const query = new URLSearchParams({ limit: String(options.pageSize ?? 500) });
      if (continueToken) query.set("continue", continueToken);
      if (options.labelSelector) query.set("labelSelector", options.labelSelector);
      if (options.fieldSelector) query.set("fieldSelector", options.fieldSelector);
      const response = await transport.request({
        method: "GET",
        path: options.path,
        query,
        ...(options.metadataOnly ? { accept: metadataListMediaType } : {}),
        signal: stopping.signal,
      });
      let page: ListPage;
      try {
        page = JSON.parse(response.body.toString("utf8")) as ListPage;
      } catch {
        // JSON.parse quotes the text it failed on, and the text may be a Secret: say only what.
        throw new WatchStreamError("the list answer is not JSON");
      }
      for (const item of page.items ?? []) items.push(transform(item));
      continueToken = page.metadata?.continue || undefined;
      version = page.metadata?.resourceVersion ?? version;
    } while (continueToken);
    return { items, resourceVersion: version };
  }

  async function relist(): Promise<void> {
    let listed: Awaited<ReturnType<typeof listAll>>;
    try {
      listed = await listAll();
    } catch (error) {
      // A continue token that expired mid-list: start the list over at once, once.
      if (!(error instanceof KubeHttpError && error.status === 410)) throw error;
      listed = await listAll();
    }
    if (stopping.signal.aborted) return;
    const seen = new Set<string>();
    for (const object of listed.items) {
      seen.add(objectKey(object));
      upsert(object);
    }
    for (const [key, previous] of [...store]) if (!seen.has(key)) remove(key, previous);
    resourceVersion = listed.resourceVersion;
    if (!synced) {
      synced = true;
      resolveSynced();
    }
  }

  async function run(): Promise<void> {
    let listFailures = 0;
    let expiredInARow = 0;
    while (!stopping.signal.aborted) {
      try {
        await relist();
        listFailures = 0;
      } catch (error) {
        if (stopping.signal.aborted) break;
        const delay = backoffDelay(listFailures, options.backoff, random);
        listFailures += 1;
        report(error, { phase: "list", retryInMilliseconds: delay });
        await pause(delay, stopping.signal);
        continue;
      }
      const cycle = new AbortController();
      const resync =
        options.resyncMilliseconds === undefined
          ? undefined
          : setTimeout(() => cycle.abort(), options.resyncMilliseconds);
      let delivered = false;
      try {
        await watchList(transport, {
          path: options.path,
          ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
          ...(options.fieldSelector ? { fieldSelector: options.fieldSelector } : {}),
          ...(resourceVersion ? { resourceVersion } : {}),
          ...(options.metadataOnly ? { accept: metadataMediaType } : {}),
          ...(options.timeoutSeconds === undefined ? {} : { timeoutSeconds: options.timeoutSeconds }),
          ...(options.idleTimeoutMilliseconds === undefined
            ? {}
            : { idleTimeoutMilliseconds: options.idleTimeoutMilliseconds }),
          ...(options.backoff ? { backoff: options.backoff } : {}),
          random,
          signal: AbortSignal.any([stopping.signal, cycle.signal]),
          onEvent: (event) => {
            delivered = true;
            apply(event);
          },
          onError: (error, retryInMilliseconds) => report(error, { phase: "watch", retryInMilliseconds }),
        });
        expiredInARow = 0;
      } catch (error) {
        if (stopping.signal.aborted) break;
        if (!(error instanceof WatchExpiredError)) {
          // Not expected (watchList retries by itself); list again after a pause rather than die.
          report(error, { phase: "watch", retryInMilliseconds: backoffDelay(0, options.backoff, random) });
          await pause(backoffDelay(0, options.backoff, random), stopping.signal);
          continue;
        }
        // Relist at once; but a server that expires every fresh watch gets backoff, not a loop.
        expiredInARow = delivered ? 1 : expiredInARow + 1;
        const delay = expiredInARow > 1 ? backoffDelay(expiredInARow - 2, options.backoff, random) : 0;
        report(error, { phase: "watch", retryInMilliseconds: delay });
        if (delay > 0) await pause(delay, stopping.signal);
      } finally {
        clearTimeout(resync);
      }
    }
  }

  const running = run().catch((error: unknown) => report(error, { phase: "watch" }));

  return {
    synced: syncedPromise,
    hasSynced: () => synced,
    list: () => [...store.keys()].sort().map((key) => store.get(key) as KubeObject),
    get: (key) => store.get(key),
    get resourceVersion() {
      return resourceVersion;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    async stop() {
      stopping.abort();
      await running;
      if (!synced) rejectSynced(new Error("the informer was stopped before its first list"));
    },
  };
}
