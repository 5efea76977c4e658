// An in-memory TokenStore for the authorization server's tests, on the tests' clock so TTLs
// expire when a test moves time forward. Not exported from the package.
import type { TokenStore } from "../../contracts.js";

export interface MemoryTokenStore extends TokenStore {
  /** Every key and value held, for tests that look for leaked tokens. */
  dump(): string[];
  readonly operations: { sets: number };
}

export function createMemoryTokenStore(now: () => number): MemoryTokenStore {
  const values = new Map<string, { value: string; expiresAt: number }>();
  const sets = new Map<string, { members: Set<string>; expiresAt: number }>();
  const operations = { sets: 0 };

  function live<Entry extends { expiresAt: number }>(map: Map<string, Entry>, key: string): Entry | undefined {
    const entry = map.get(key);
    if (entry !== undefined && entry.expiresAt <= now()) {
      map.delete(key);
      return undefined;
    }
    return entry;
  }

  const boundedSets = new Map<string, Map<string, number>>();
  function liveBounded(key: string): Map<string, number> {
    const set = boundedSets.get(key) ?? new Map<string, number>();
    boundedSets.set(key, set);
    for (const [member, expiresAt] of set) {
      if (expiresAt <= now()) {
        set.delete(member);
      }
    }
    return set;
  }

  return {
    operations,
    async set(key, value, ttlSeconds) {
      operations.sets += 1;
      values.set(key, { value, expiresAt: now() + ttlSeconds * 1000 });
    },
    async get(key) {
      return live(values, key)?.value;
    },
    async take(key) {
      const entry = live(values, key);
      values.delete(key);
      return entry?.value;
    },
    async delete(...keys) {
      for (const key of keys) {
        values.delete(key);
        sets.delete(key);
      }
    },
    async addToSet(key, member, ttlSeconds) {
      const entry = live(sets, key) ?? { members: new Set<string>(), expiresAt: 0 };
      entry.members.add(member);
      entry.expiresAt = Math.max(entry.expiresAt, now() + ttlSeconds * 1000);
      sets.set(key, entry);
    },
    async members(key) {
      return [...(live(sets, key)?.members ?? [])];
    },
    async addToBoundedSet(key, member, limit, ttlSeconds) {
      const set = liveBounded(key);
      if (!set.has(member) && set.size >= limit) {
        return false;
      }
      set.set(member, now() + ttlSeconds * 1000);
      return true;
    },
    async removeFromBoundedSet(key, member) {
      liveBounded(key).delete(member);
    },
    async boundedSetSize(key) {
      return liveBounded(key).size;
    },
    async close() {
      values.clear();
      sets.clear();
    },
    dump() {
      return [
        ...[...values].flatMap(([key, entry]) => [key, entry.value]),
        ...[...sets].flatMap(([key, entry]) => [key, ...entry.members]),
        ...[...boundedSets].flatMap(([key, set]) => [key, ...set.keys()]),
      ];
    },
  };
}
