import {
  type ApiResourceListDocument,
  buildDiscoveryDocument,
  type DiscoveredGroup,
  type DiscoveryDocument,
} from "./discovery.js";

interface ApiVersionsDocument {
  readonly versions?: readonly string[];
}

interface ApiGroupListDocument {
  readonly groups?: readonly {
    readonly name: string;
    readonly versions?: readonly { readonly version: string }[];
    readonly preferredVersion?: { readonly version: string };
  }[];
}

import type { RateLimiter } from "./rate-limiter.js";

/** The part of a connection discovery needs (kept narrow so the connection can own the cache). */
export interface DiscoveryTransport {
  readonly limiter: RateLimiter;
  request(request: {
    readonly method: "GET";
    readonly path: string;
    readonly alreadyLimited: boolean;
  }): Promise<{ readonly body: Buffer }>;
}

// Group versions are fetched a few at a time: enough to be quick, few enough not to open a
// connection per group version.
const discoveryParallelism = 6;

async function getJson<T>(connection: DiscoveryTransport, path: string, alreadyLimited: boolean): Promise<T> {
  const response = await connection.request({ method: "GET", path, alreadyLimited });
  return JSON.parse(response.body.toString("utf8")) as T;
}

/**
 * Reads `/api`, `/apis` and each group version's resource list (Kubernetes 1.20 has no
 * aggregated discovery). The pass costs one rate-limiter token: it is one logical read, and
 * paying ~40 tokens would stall the caller's real request behind its own discovery.
 */
export async function fetchDiscovery(connection: DiscoveryTransport): Promise<DiscoveryDocument> {
  await connection.limiter.acquire();
  const [core, apis] = await Promise.all([
    getJson<ApiVersionsDocument>(connection, "/api", true),
    getJson<ApiGroupListDocument>(connection, "/apis", true),
  ]);
  const groups: DiscoveredGroup[] = [{ name: "", versions: [...(core.versions ?? [])] }];
  for (const group of apis.groups ?? []) {
    const versions = (group.versions ?? []).map((item) => item.version);
    const preferred = group.preferredVersion?.version;
    const ordered =
      preferred && versions.includes(preferred) ? [preferred, ...versions.filter((v) => v !== preferred)] : versions;
    groups.push({ name: group.name, versions: ordered });
  }
  const groupVersions = groups.flatMap((group) =>
    group.versions.map((version) => ({
      key: group.name === "" ? version : `${group.name}/${version}`,
      path: group.name === "" ? `/api/${version}` : `/apis/${group.name}/${version}`,
      core: group.name === "",
    })),
  );
  const lists = new Map<string, ApiResourceListDocument>();
  const failed: string[] = [];
  let next = 0;
  let coreFailure: unknown;
  async function worker(): Promise<void> {
    while (next < groupVersions.length) {
      const item = groupVersions[next];
      next += 1;
      if (!item) continue;
      try {
        lists.set(item.key, await getJson<ApiResourceListDocument>(connection, item.path, true));
      } catch (error) {
        // An aggregated API that is down must not hide the rest of the cluster (kubectl warns and
        // goes on); the core group failing means discovery failed.
        if (item.core) coreFailure = error;
        failed.push(item.key);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(discoveryParallelism, groupVersions.length) }, () => worker()));
  if (coreFailure !== undefined) throw coreFailure;
  return buildDiscoveryDocument(groups, lists, failed);
}

export interface DiscoveryCache {
  /** The cached document, fetched when missing or older than the TTL. */
  current(): Promise<DiscoveryDocument>;
  /**
   * Fetches again after a resolution miss, unless the cached copy is fresher than
   * `missRefreshIntervalMilliseconds`; concurrent callers share one fetch.
   */
  refreshAfterMiss(): Promise<DiscoveryDocument>;
}

export interface DiscoveryCacheOptions {
  readonly fetch: () => Promise<DiscoveryDocument>;
  readonly ttlMilliseconds: number;
  /** A miss refreshes at most this often, so a stream of bad names cannot hammer discovery. */
  readonly missRefreshIntervalMilliseconds?: number;
  readonly now?: () => number;
}

export function createDiscoveryCache(options: DiscoveryCacheOptions): DiscoveryCache {
  const now = options.now ?? (() => performance.now());
  const missInterval = options.missRefreshIntervalMilliseconds ?? 1_000;
  let cached: { document: DiscoveryDocument; fetchedAt: number } | undefined;
  let inFlight: Promise<DiscoveryDocument> | undefined;

  function fetchNow(): Promise<DiscoveryDocument> {
    inFlight ??= options
      .fetch()
      .then((document) => {
        cached = { document, fetchedAt: now() };
        return document;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  }

  return {
    async current() {
      if (cached && now() - cached.fetchedAt < options.ttlMilliseconds) return cached.document;
      return fetchNow();
    },
    async refreshAfterMiss() {
      if (inFlight) return inFlight;
      if (cached && now() - cached.fetchedAt < missInterval) return cached.document;
      return fetchNow();
    },
  };
}
