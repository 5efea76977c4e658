import {
  type ClusterAccess,
  type ClusterCatalog,
  type ClusterSummary,
  type Principal,
  principalIdentityKey,
} from "@capi-mcp/core";
import { LRUCache } from "lru-cache";
import { currentIdTokenOf, impersonatedIdentity } from "./principal-identity.js";
import { clusterNotFound } from "./static-catalog.js";

/** How a call reaches a cluster as the user. There is never a fallback from one to the other. */
export type WorkloadAuthMode = "impersonation" | "sso-passthrough";

/** The identity a cluster client is built for. */
export type ClientIdentity =
  | {
      readonly mode: "impersonation";
      readonly user: string;
      readonly groups: readonly string[];
      /** `Impersonate-Extra-*`: `agent` is fixed to capi-mcp and set last, so nothing overrides it. */
      readonly extra: Readonly<Record<string, readonly string[]>>;
    }
  | { readonly mode: "sso-passthrough"; readonly idToken: string };

export interface UserCatalogOptions {
  readonly clusters: readonly ClusterSummary[];
  readonly defaultCluster: string | undefined;
  readonly mode: WorkloadAuthMode;
  /** Builds one cluster client for one identity. */
  readonly connect: (cluster: ClusterSummary, identity: ClientIdentity) => ClusterAccess;
  readonly maxEntries?: number;
  readonly ttlMilliseconds?: number;
  readonly now?: () => number;
}

export interface UserCatalogs {
  /** The clusters as this principal may use them. */
  forPrincipal(principal: Principal): ClusterCatalog;
  readonly size: number;
}

function impersonationIdentity(principal: Principal): ClientIdentity {
  return { mode: "impersonation", ...impersonatedIdentity(principal) };
}

/**
 * Cluster clients per (cluster, mode, user identity), pooled in an LRU. Impersonation keys by the
 * user's name and sorted groups; SSO passthrough also by the ID token's fingerprint, and never
 * keeps a client past that token's expiry. A user's client is never handed to another user.
 */
export function createUserCatalogs(options: UserCatalogOptions): UserCatalogs {
  const byName = new Map(options.clusters.map((cluster) => [cluster.name, cluster]));
  const now = options.now ?? Date.now;
  const defaultTtl = options.ttlMilliseconds ?? 10 * 60_000;
  const pool = new LRUCache<string, ClusterAccess>({
    max: options.maxEntries ?? 1000,
    ttl: defaultTtl,
    ttlAutopurge: false,
    perf: { now },
  });

  async function identityFor(principal: Principal): Promise<{ identity: ClientIdentity; ttl: number; key: string }> {
    if (options.mode === "impersonation") {
      return { identity: impersonationIdentity(principal), ttl: defaultTtl, key: principalIdentityKey(principal) };
    }
    const held = await currentIdTokenOf(principal, now(), defaultTtl);
    return {
      identity: { mode: "sso-passthrough", idToken: held.idToken },
      ttl: held.ttlMilliseconds,
      key: `${principalIdentityKey(principal)}|${held.fingerprint}`,
    };
  }

  return {
    get size() {
      return pool.size;
    },
    forPrincipal(principal) {
      return {
        defaultCluster: options.defaultCluster,
        async list() {
          return options.clusters;
        },
        async access(name) {
          const cluster = byName.get(name);
          if (!cluster) throw clusterNotFound(name);
          const { identity, ttl, key } = await identityFor(principal);
          const poolKey = JSON.stringify([name, options.mode, key]);
          let access = pool.get(poolKey);
          if (!access) {
            access = options.connect(cluster, identity);
            pool.set(poolKey, access, { ttl });
          }
          return access;
        },
      };
    },
  };
}
