import { GatewayError } from "@capi-mcp/core";
import { afterEach, describe, expect, it } from "vitest";
import type { TokenStore } from "../../contracts.js";

export interface TokenStoreUnderTest {
  readonly store: TokenStore;
  /** Lets at least this many seconds pass for the store (a fake clock, or real waiting). */
  elapse(seconds: number): Promise<void>;
}

/**
 * What every TokenStore does, run against each implementation so the memory store that unit
 * tests use cannot drift from the Redis store that production uses.
 */
export function describeTokenStoreBehaviour(title: string, open: () => Promise<TokenStoreUnderTest>): void {
  describe(title, () => {
    const opened: TokenStore[] = [];
    async function setUp(): Promise<TokenStoreUnderTest> {
      const underTest = await open();
      opened.push(underTest.store);
      return underTest;
    }
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });

    it("returns the value that was set under a key", async () => {
      const { store } = await setUp();
      await store.set("code:a", '{"user":"ada"}', 60);
      await store.set("code:b", "", 60);
      expect(await store.get("code:a")).toBe('{"user":"ada"}');
      expect(await store.get("code:b")).toBe("");
    });

    it("returns nothing for a key that was never set", async () => {
      const { store } = await setUp();
      expect(await store.get("code:missing")).toBeUndefined();
      expect(await store.take("code:missing")).toBeUndefined();
      expect(await store.members("family:missing")).toEqual([]);
    });

    it("stops returning a value once its lifetime has passed", async () => {
      const { store, elapse } = await setUp();
      await store.set("code:short", "v", 1);
      await store.set("code:long", "w", 30);
      expect(await store.get("code:short")).toBe("v");
      await elapse(1);
      expect(await store.get("code:short")).toBeUndefined();
      expect(await store.take("code:short")).toBeUndefined();
      expect(await store.get("code:long")).toBe("w");
    });

    it("replaces a value and its lifetime when the key is set again", async () => {
      const { store, elapse } = await setUp();
      await store.set("code:a", "first", 1);
      await store.set("code:a", "second", 30);
      await elapse(1);
      expect(await store.get("code:a")).toBe("second");
    });

    it("rounds a fractional lifetime up to a whole second instead of dropping the value", async () => {
      const { store } = await setUp();
      await store.set("code:a", "v", 0.2);
      expect(await store.get("code:a")).toBe("v");
    });

    it("refuses a lifetime that is not a positive number", async () => {
      const { store } = await setUp();
      for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
        await expect(store.set("code:a", "v", ttl)).rejects.toMatchObject({ code: "internal" });
        await expect(store.addToSet("family:a", "m", ttl)).rejects.toMatchObject({ code: "internal" });
      }
      expect(await store.get("code:a")).toBeUndefined();
      expect(await store.members("family:a")).toEqual([]);
    });

    it("take returns a value once and then nothing", async () => {
      const { store } = await setUp();
      await store.set("code:once", "grant", 60);
      expect(await store.take("code:once")).toBe("grant");
      expect(await store.take("code:once")).toBeUndefined();
      expect(await store.get("code:once")).toBeUndefined();
    });

    it("take among many concurrent calls hands the value to exactly one of them", async () => {
      const { store } = await setUp();
      await store.set("code:race", "grant", 60);
      const results = await Promise.all(Array.from({ length: 20 }, () => store.take("code:race")));
      expect(results.filter((result) => result === "grant")).toHaveLength(1);
      expect(results.filter((result) => result === undefined)).toHaveLength(19);
    });

    it("deletes several keys at once, values and sets alike, and ignores missing ones", async () => {
      const { store } = await setUp();
      await store.set("token:a", "1", 60);
      await store.set("token:b", "2", 60);
      await store.set("token:c", "3", 60);
      await store.addToSet("family:f", "token:a", 60);
      await store.delete("token:a", "family:f", "token:missing");
      await store.delete();
      expect(await store.get("token:a")).toBeUndefined();
      expect(await store.members("family:f")).toEqual([]);
      expect(await store.get("token:b")).toBe("2");
      await store.delete("token:b");
      expect(await store.get("token:b")).toBeUndefined();
      expect(await store.get("token:c")).toBe("3");
    });

    it("collects set members once each", async () => {
      const { store } = await setUp();
      await store.addToSet("family:f", "token:a", 60);
      await store.addToSet("family:f", "token:b", 60);
      await store.addToSet("family:f", "token:a", 60);
      expect((await store.members("family:f")).sort()).toEqual(["token:a", "token:b"]);
      expect(await store.members("family:other")).toEqual([]);
    });

    it("forgets a set once its lifetime has passed", async () => {
      const { store, elapse } = await setUp();
      await store.addToSet("family:f", "token:a", 1);
      await elapse(1);
      expect(await store.members("family:f")).toEqual([]);
      // A new member after expiry starts a new set; the expired members do not come back.
      await store.addToSet("family:f", "token:b", 30);
      expect(await store.members("family:f")).toEqual(["token:b"]);
    });

    it("keeps a set as long as its longest-lived member, never shortening it", async () => {
      const { store, elapse } = await setUp();
      await store.addToSet("family:shrink", "token:a", 2);
      await store.addToSet("family:shrink", "token:b", 1);
      await store.addToSet("family:grow", "token:c", 1);
      await store.addToSet("family:grow", "token:d", 2);
      await elapse(1);
      expect((await store.members("family:shrink")).sort()).toEqual(["token:a", "token:b"]);
      expect((await store.members("family:grow")).sort()).toEqual(["token:c", "token:d"]);
      await elapse(1);
      expect(await store.members("family:shrink")).toEqual([]);
      expect(await store.members("family:grow")).toEqual([]);
    });

    it("refuses to read a set as a value or add a member to a value", async () => {
      const { store } = await setUp();
      await store.addToSet("family:f", "token:a", 60);
      await store.set("token:v", "value", 60);
      const wrongKind = {
        code: "internal",
        message: "The token store holds a different kind of entry under this key.",
      };
      await expect(store.get("family:f")).rejects.toMatchObject(wrongKind);
      await expect(store.take("family:f")).rejects.toMatchObject(wrongKind);
      await expect(store.addToSet("token:v", "m", 60)).rejects.toMatchObject(wrongKind);
      await expect(store.members("token:v")).rejects.toMatchObject(wrongKind);
      expect(await store.members("family:f")).toEqual(["token:a"]);
    });

    it("admits members to a bounded set up to its limit, then refuses newcomers but renews members", async () => {
      const { store } = await setUp();
      expect(await store.addToBoundedSet("clients", "a", 2, 60)).toBe(true);
      expect(await store.addToBoundedSet("clients", "b", 2, 60)).toBe(true);
      expect(await store.addToBoundedSet("clients", "c", 2, 60)).toBe(false);
      expect(await store.addToBoundedSet("clients", "a", 2, 120)).toBe(true);
      expect(await store.boundedSetSize("clients")).toBe(2);
      await store.removeFromBoundedSet("clients", "b");
      expect(await store.boundedSetSize("clients")).toBe(1);
      expect(await store.addToBoundedSet("clients", "c", 2, 60)).toBe(true);
      expect(await store.boundedSetSize("missing")).toBe(0);
    });

    it("frees a bounded set's place when that member's own lifetime has passed", async () => {
      const { store, elapse } = await setUp();
      expect(await store.addToBoundedSet("clients", "short", 2, 1)).toBe(true);
      expect(await store.addToBoundedSet("clients", "long", 2, 30)).toBe(true);
      expect(await store.addToBoundedSet("clients", "late", 2, 30)).toBe(false);
      await elapse(1);
      expect(await store.boundedSetSize("clients")).toBe(1);
      expect(await store.addToBoundedSet("clients", "late", 2, 30)).toBe(true);
      expect(await store.addToBoundedSet("clients", "later", 2, 30)).toBe(false);
    });

    it("keeps a renewed member for its new lifetime, not its first", async () => {
      const { store, elapse } = await setUp();
      await store.addToBoundedSet("clients", "a", 5, 1);
      await store.addToBoundedSet("clients", "a", 5, 30);
      await elapse(1);
      expect(await store.boundedSetSize("clients")).toBe(1);
    });

    it("lets exactly the limit in when many add to a bounded set at once", async () => {
      const { store } = await setUp();
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, index) => store.addToBoundedSet("clients", `m${index}`, 7, 60)),
      );
      expect(answers.filter(Boolean)).toHaveLength(7);
      expect(await store.boundedSetSize("clients")).toBe(7);
    });

    it("fails every call as unavailable once closed", async () => {
      const { store } = await setUp();
      await store.set("token:a", "v", 60);
      await store.close();
      await store.close();
      const error = await store.get("token:a").catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(GatewayError);
      expect(error).toMatchObject({ code: "unavailable" });
      await expect(store.set("token:b", "v", 60)).rejects.toMatchObject({ code: "unavailable" });
    });
  });
}
