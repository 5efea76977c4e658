import { GatewayError } from "@capi-mcp/core";
import type { TokenStore } from "../contracts.js";
import { wholeSeconds, wrongKindError } from "./entry-lifetime.js";

export interface MemoryTokenStoreOptions {
  /**
   * Upper bound on what the store holds, counting each value and each set member as one entry
   * (so one ever-growing set cannot escape the bound). Default 50,000.
   */
  readonly maxEntries?: number;
  /** Milliseconds since the epoch; injected by tests to move time. Default `Date.now`. */
  readonly now?: () => number;
}

const defaultMaxEntries = 50_000;

interface ValueEntry {
  readonly kind: "value";
  readonly value: string;
  readonly expiresAt: number;
}

interface SetEntry {
  readonly kind: "set";
  readonly members: Set<string>;
  expiresAt: number;
}

interface BoundedSetEntry {
  readonly kind: "bounded-set";
  /** Member → when it expires (ms). */
  readonly members: Map<string, number>;
  expiresAt: number;
}

type Entry = ValueEntry | SetEntry | BoundedSetEntry;

function weightOf(entry: Entry): number {
  return entry.kind === "value" ? 1 : entry.members.size;
}

/**
 * The default store for a single replica: a Map with lifetimes. Expired entries are never
 * returned; they are dropped when touched and, when the store is full, by a sweep.
 *
 * When full of live entries the store refuses new ones (`unavailable`) instead of evicting: an
 * eviction would silently drop state such as a refresh-token family, which could weaken reuse
 * detection, while a refusal only fails the request that needed room.
 */
export function createMemoryTokenStore(options: MemoryTokenStoreOptions = {}): TokenStore {
  const maxEntries = options.maxEntries ?? defaultMaxEntries;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new GatewayError("invalid_input", "The memory token store needs maxEntries to be a positive integer.");
  }
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  let heldEntries = 0;
  // No entry expires before this instant, so a full store of live entries does not rescan the
  // whole map on every write (which would turn a full store into a CPU sink).
  let nextExpiryAt = Number.NEGATIVE_INFINITY;
  let closed = false;

  function assertOpen(): void {
    if (closed) {
      throw new GatewayError("unavailable", "The token store is closed.");
    }
  }

  function remove(key: string, entry: Entry): void {
    entries.delete(key);
    heldEntries -= weightOf(entry);
  }

  /** The entry under key if it is still alive; an expired one is dropped on the way. */
  function liveEntry(key: string): Entry | undefined {
    const entry = entries.get(key);
    if (entry === undefined) {
      return undefined;
    }
    if (now() >= entry.expiresAt) {
      remove(key, entry);
      return undefined;
    }
    return entry;
  }

  /** The bounded set under key with its expired members dropped, or undefined when there is none. */
  function liveBoundedSet(key: string, wrongKind: string): BoundedSetEntry | undefined {
    const entry = liveEntry(key);
    if (entry === undefined) {
      return undefined;
    }
    if (entry.kind !== "bounded-set") {
      throw wrongKindError(wrongKind);
    }
    const instant = now();
    for (const [member, expiresAt] of entry.members) {
      if (instant >= expiresAt) {
        entry.members.delete(member);
        heldEntries -= 1;
      }
    }
    return entry;
  }

  function sweep(): void {
    const instant = now();
    let earliest = Number.POSITIVE_INFINITY;
    for (const [key, entry] of entries) {
      if (instant >= entry.expiresAt) {
        remove(key, entry);
        continue;
      }
      if (entry.kind === "bounded-set") {
        // Members expire one by one, not with their set: each gives its room back when it does.
        for (const [member, expiresAt] of entry.members) {
          if (instant >= expiresAt) {
            entry.members.delete(member);
            heldEntries -= 1;
          } else {
            earliest = Math.min(earliest, expiresAt);
          }
        }
      }
      earliest = Math.min(earliest, entry.expiresAt);
    }
    nextExpiryAt = earliest;
  }

  function makeRoom(needed: number): void {
    if (heldEntries + needed <= maxEntries) {
      return;
    }
    if (now() >= nextExpiryAt) {
      sweep();
    }
    if (heldEntries + needed > maxEntries) {
      throw new GatewayError("unavailable", "The token store is full; try again later.", {
        detail: `the memory token store holds ${heldEntries} of at most ${maxEntries} entries, none expired`,
      });
    }
  }

  function noteExpiry(expiresAt: number): void {
    nextExpiryAt = Math.min(nextExpiryAt, expiresAt);
  }

  return {
    async set(key, value, ttlSeconds) {
      assertOpen();
      const lifetime = wholeSeconds(ttlSeconds);
      const existing = liveEntry(key);
      makeRoom(1 - (existing === undefined ? 0 : weightOf(existing)));
      if (existing !== undefined) {
        remove(key, existing);
      }
      const expiresAt = now() + lifetime * 1000;
      entries.set(key, { kind: "value", value, expiresAt });
      heldEntries += 1;
      noteExpiry(expiresAt);
    },

    async get(key) {
      assertOpen();
      const entry = liveEntry(key);
      if (entry === undefined) {
        return undefined;
      }
      if (entry.kind !== "value") {
        throw wrongKindError("get on a set");
      }
      return entry.value;
    },

    async take(key) {
      assertOpen();
      const entry = liveEntry(key);
      if (entry === undefined) {
        return undefined;
      }
      if (entry.kind !== "value") {
        throw wrongKindError("take on a set");
      }
      // Read and delete happen in one synchronous step: no other call can run in between.
      remove(key, entry);
      return entry.value;
    },

    async delete(...keys) {
      assertOpen();
      for (const key of keys) {
        const entry = entries.get(key);
        if (entry !== undefined) {
          remove(key, entry);
        }
      }
    },

    async addToSet(key, member, ttlSeconds) {
      assertOpen();
      const lifetime = wholeSeconds(ttlSeconds);
      const existing = liveEntry(key);
      if (existing !== undefined && existing.kind !== "set") {
        throw wrongKindError("addToSet on a value");
      }
      if (existing === undefined || !existing.members.has(member)) {
        makeRoom(1);
      }
      const expiresAt = now() + lifetime * 1000;
      // makeRoom may have swept; the set itself is alive, so it is still there.
      const set = existing ?? { kind: "set", members: new Set<string>(), expiresAt };
      if (!set.members.has(member)) {
        set.members.add(member);
        heldEntries += 1;
      }
      // A later, shorter-lived member never shortens the set: members added earlier (a
      // refresh-token family, say) must stay visible for as long as they were promised.
      set.expiresAt = Math.max(set.expiresAt, expiresAt);
      entries.set(key, set);
      noteExpiry(set.expiresAt);
    },

    async members(key) {
      assertOpen();
      const entry = liveEntry(key);
      if (entry === undefined) {
        return [];
      }
      if (entry.kind !== "set") {
        throw wrongKindError("members of a value");
      }
      return [...entry.members];
    },

    async addToBoundedSet(key, member, limit, ttlSeconds) {
      assertOpen();
      const lifetime = wholeSeconds(ttlSeconds);
      const set = liveBoundedSet(key, "addToBoundedSet on another kind");
      const known = set?.members.has(member) ?? false;
      if (!known && (set?.members.size ?? 0) >= limit) {
        return false;
      }
      if (!known) {
        makeRoom(1);
      }
      const expiresAt = now() + lifetime * 1000;
      // makeRoom may have swept; a live set is still there, so look it up again.
      const entry = liveBoundedSet(key, "addToBoundedSet on another kind") ?? {
        kind: "bounded-set" as const,
        members: new Map<string, number>(),
        expiresAt,
      };
      if (!entry.members.has(member)) {
        heldEntries += 1;
      }
      entry.members.set(member, expiresAt);
      entry.expiresAt = Math.max(...entry.members.values());
      entries.set(key, entry);
      noteExpiry(expiresAt);
      return true;
    },

    async removeFromBoundedSet(key, member) {
      assertOpen();
      const set = liveBoundedSet(key, "removeFromBoundedSet on another kind");
      if (set?.members.delete(member)) {
        heldEntries -= 1;
        if (set.members.size === 0) {
          entries.delete(key);
        }
      }
    },

    async boundedSetSize(key) {
      assertOpen();
      return liveBoundedSet(key, "boundedSetSize of another kind")?.members.size ?? 0;
    },

    async close() {
      // Drops every token from memory; later calls fail rather than quietly act on an empty store.
      closed = true;
      entries.clear();
      heldEntries = 0;
    },
  };
}
