import { describe, expect, it } from "vitest";
import { createMemoryTokenStore } from "./memory-token-store.js";
import { describeTokenStoreBehaviour } from "./testing/token-store-behaviour.js";

function fakeClock(start = 1_800_000_000_000) {
  let instant = start;
  return {
    now: () => instant,
    advance(milliseconds: number) {
      instant += milliseconds;
    },
  };
}

describeTokenStoreBehaviour("the memory token store", async () => {
  const clock = fakeClock();
  return {
    store: createMemoryTokenStore({ now: clock.now }),
    async elapse(seconds) {
      clock.advance(seconds * 1000);
    },
  };
});

describe("the memory token store's clock and bounds", () => {
  it("keeps a value until the last millisecond of its lifetime and not at the end of it", async () => {
    const clock = fakeClock();
    const store = createMemoryTokenStore({ now: clock.now });
    await store.set("code:a", "v", 10);
    clock.advance(9_999);
    expect(await store.get("code:a")).toBe("v");
    clock.advance(1);
    expect(await store.get("code:a")).toBeUndefined();
  });

  it("refuses a new entry as unavailable when full of live entries, and keeps what it holds", async () => {
    const store = createMemoryTokenStore({ maxEntries: 2, now: fakeClock().now });
    await store.set("token:a", "1", 60);
    await store.set("token:b", "2", 60);
    await expect(store.set("token:c", "3", 60)).rejects.toMatchObject({
      code: "unavailable",
      message: "The token store is full; try again later.",
    });
    expect(await store.get("token:a")).toBe("1");
    expect(await store.get("token:b")).toBe("2");
    expect(await store.get("token:c")).toBeUndefined();
  });

  it("still lets a full store replace a value it already holds", async () => {
    const store = createMemoryTokenStore({ maxEntries: 1, now: fakeClock().now });
    await store.set("token:a", "1", 60);
    await store.set("token:a", "2", 60);
    expect(await store.get("token:a")).toBe("2");
  });

  it("makes room by sweeping out expired entries nobody has read", async () => {
    const clock = fakeClock();
    const store = createMemoryTokenStore({ maxEntries: 2, now: clock.now });
    await store.set("token:a", "1", 1);
    await store.addToSet("family:f", "token:a", 1);
    clock.advance(1000);
    await store.set("token:b", "2", 60);
    await store.addToSet("family:g", "token:b", 60);
    expect(await store.get("token:b")).toBe("2");
    expect(await store.members("family:g")).toEqual(["token:b"]);
  });

  it("sweeps again once a live entry has expired, even after a sweep that freed nothing", async () => {
    const clock = fakeClock();
    const store = createMemoryTokenStore({ maxEntries: 2, now: clock.now });
    await store.set("token:a", "1", 5);
    await store.set("token:b", "2", 60);
    await expect(store.set("token:c", "3", 60)).rejects.toMatchObject({ code: "unavailable" });
    // An entry added after that sweep expires before anything the sweep saw.
    await store.delete("token:b");
    await store.set("token:d", "4", 1);
    clock.advance(1000);
    await store.set("token:e", "5", 60);
    expect(await store.get("token:e")).toBe("5");
    expect(await store.get("token:a")).toBe("1");
  });

  it("counts every set member towards the limit, so one set cannot grow without bound", async () => {
    const store = createMemoryTokenStore({ maxEntries: 3, now: fakeClock().now });
    await store.addToSet("family:f", "token:a", 60);
    await store.addToSet("family:f", "token:b", 60);
    await store.addToSet("family:f", "token:c", 60);
    await store.addToSet("family:f", "token:c", 60);
    await expect(store.addToSet("family:f", "token:d", 60)).rejects.toMatchObject({ code: "unavailable" });
    await store.delete("family:f");
    await store.addToSet("family:g", "token:d", 60);
    await store.set("token:x", "1", 60);
    expect(await store.members("family:g")).toEqual(["token:d"]);
  });

  it("counts bounded-set members towards the limit and gives their room back when they expire or leave", async () => {
    const clock = fakeClock();
    const store = createMemoryTokenStore({ maxEntries: 3, now: clock.now });
    expect(await store.addToBoundedSet("clients", "a", 10, 1)).toBe(true);
    expect(await store.addToBoundedSet("clients", "b", 10, 60)).toBe(true);
    await store.set("token:a", "1", 60);
    await expect(store.set("token:b", "2", 60)).rejects.toMatchObject({ code: "unavailable" });
    clock.advance(1000);
    await store.set("token:b", "2", 60);
    await store.removeFromBoundedSet("clients", "b");
    await store.set("token:c", "3", 60);
    expect(await store.get("token:c")).toBe("3");
  });

  it("refuses a limit that is not a positive integer", () => {
    for (const maxEntries of [0, -1, 1.5, Number.NaN]) {
      expect(() => createMemoryTokenStore({ maxEntries })).toThrow(expect.objectContaining({ code: "invalid_input" }));
    }
  });

  it("hands out a copy of a set's members, not the set itself", async () => {
    const store = createMemoryTokenStore();
    await store.addToSet("family:f", "token:a", 60);
    const members = await store.members("family:f");
    members.push("token:forged");
    expect(await store.members("family:f")).toEqual(["token:a"]);
  });
});
