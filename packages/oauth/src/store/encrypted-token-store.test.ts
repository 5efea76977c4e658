import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { TokenStore } from "../contracts.js";
import { createEncryptedTokenStore, type TokenStoreTamperEvent } from "./encrypted-token-store.js";
import { createMemoryTokenStore } from "./memory-token-store.js";
import { describeTokenStoreBehaviour } from "./testing/token-store-behaviour.js";

const plaintext = JSON.stringify({
  idToken: "eyJhbGciOiJSUzI1NiJ9.upstream-id-token",
  refresh: "upstream-refresh-secret",
});

function setUp(key: Buffer = randomBytes(32)) {
  const inner = createMemoryTokenStore();
  const tampered: TokenStoreTamperEvent[] = [];
  const store = createEncryptedTokenStore(inner, key, { onTamper: (event) => tampered.push(event) });
  return { inner, store, tampered, key };
}

async function rawValue(inner: TokenStore, key: string): Promise<string> {
  const value = await inner.get(key);
  if (value === undefined) {
    throw new Error(`nothing stored under ${key}`);
  }
  return value;
}

function flipBit(stored: string, byteIndex: number): string {
  const bytes = Buffer.from(stored, "base64url");
  bytes[byteIndex] = (bytes[byteIndex] ?? 0) ^ 0x01;
  return bytes.toString("base64url");
}

describeTokenStoreBehaviour("the encrypted token store over the memory store", async () => {
  let instant = 1_800_000_000_000;
  return {
    store: createEncryptedTokenStore(createMemoryTokenStore({ now: () => instant }), randomBytes(32)),
    async elapse(seconds) {
      instant += seconds * 1000;
    },
  };
});

describe("the encrypted token store", () => {
  it("gives back exactly what was stored, including non-ASCII text", async () => {
    const { store } = setUp();
    const text = `${plaintext} — grüße, 東京 🔐`;
    await store.set("custody:a", text, 60);
    expect(await store.get("custody:a")).toBe(text);
    expect(await store.take("custody:a")).toBe(text);
    expect(await store.get("custody:a")).toBeUndefined();
  });

  it("keeps only ciphertext in the inner store, with no trace of the plaintext", async () => {
    const { inner, store } = setUp();
    await store.set("custody:a", plaintext, 60);
    const stored = await rawValue(inner, "custody:a");
    const bytes = Buffer.from(stored, "base64url");
    expect(stored).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(bytes[0]).toBe(1);
    expect(bytes.length).toBe(1 + 12 + 16 + Buffer.byteLength(plaintext));
    for (const fragment of ["upstream-refresh-secret", "idToken", "eyJhbGci"]) {
      expect(stored).not.toContain(fragment);
      expect(bytes.includes(Buffer.from(fragment))).toBe(false);
      expect(stored).not.toContain(Buffer.from(fragment).toString("base64url"));
    }
    expect(() => JSON.parse(stored)).toThrow();
  });

  it("encrypts the same value differently every time (a fresh IV per write)", async () => {
    const { inner, store } = setUp();
    await store.set("custody:a", plaintext, 60);
    await store.set("custody:b", plaintext, 60);
    const first = Buffer.from(await rawValue(inner, "custody:a"), "base64url");
    const second = Buffer.from(await rawValue(inner, "custody:b"), "base64url");
    expect(first.subarray(1, 13).equals(second.subarray(1, 13))).toBe(false);
    expect(first.subarray(29).equals(second.subarray(29))).toBe(false);
  });

  it("refuses a value moved under another key and reports it as tampering", async () => {
    const { inner, store, tampered } = setUp();
    await store.set("token:alice", plaintext, 60);
    await inner.set("token:mallory", await rawValue(inner, "token:alice"), 60);
    expect(await store.get("token:mallory")).toBeUndefined();
    expect(tampered).toEqual([{ key: "token:mallory", reason: "authentication-failed" }]);
    expect(await store.get("token:alice")).toBe(plaintext);
  });

  it("refuses a value with any single bit flipped in its IV, tag or ciphertext", async () => {
    const { inner, store, tampered } = setUp();
    await store.set("token:a", plaintext, 60);
    const stored = await rawValue(inner, "token:a");
    const length = Buffer.from(stored, "base64url").length;
    const positions = [1, 12, 13, 28, 29, length - 1];
    for (const position of positions) {
      await inner.set("token:a", flipBit(stored, position), 60);
      expect(await store.get("token:a")).toBeUndefined();
    }
    expect(tampered).toHaveLength(positions.length);
    expect(tampered.every((event) => event.reason === "authentication-failed")).toBe(true);
    await inner.set("token:a", stored, 60);
    expect(await store.get("token:a")).toBe(plaintext);
  });

  it("refuses a value stored with another key", async () => {
    const inner = createMemoryTokenStore();
    const tampered: TokenStoreTamperEvent[] = [];
    await createEncryptedTokenStore(inner, randomBytes(32)).set("token:a", plaintext, 60);
    const other = createEncryptedTokenStore(inner, randomBytes(32), { onTamper: (event) => tampered.push(event) });
    expect(await other.get("token:a")).toBeUndefined();
    expect(tampered).toEqual([{ key: "token:a", reason: "authentication-failed" }]);
  });

  it("reads malformed values and other format versions as absent", async () => {
    const { inner, store, tampered } = setUp();
    await store.set("token:good", plaintext, 60);
    const otherVersion = Buffer.from(await rawValue(inner, "token:good"), "base64url");
    otherVersion[0] = 2;
    const cases: [string, string][] = [
      [plaintext, "malformed"],
      ["", "malformed"],
      ["AQID", "malformed"],
      [otherVersion.toString("base64url"), "unknown-version"],
    ];
    for (const [value] of cases) {
      await inner.set("token:bad", value, 60);
      expect(await store.get("token:bad")).toBeUndefined();
    }
    expect(tampered.map((event) => event.reason)).toEqual(cases.map(([, reason]) => reason));
  });

  it("refuses a stored text changed only in the spare bits a lenient base64 decoder ignores", async () => {
    const { inner, store, tampered } = setUp();
    // 1 + 12 + 16 + 2 = 31 bytes: the last base64url character carries 2 data bits and 4 spare ones.
    await store.set("token:a", "ab", 60);
    const stored = await rawValue(inner, "token:a");
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(stored.at(-1) ?? "");
    const changed = `${stored.slice(0, -1)}${alphabet[last ^ 1]}`;
    expect(Buffer.from(changed, "base64url").equals(Buffer.from(stored, "base64url"))).toBe(true);
    await inner.set("token:a", changed, 60);
    expect(await store.get("token:a")).toBeUndefined();
    expect(tampered).toEqual([{ key: "token:a", reason: "malformed" }]);
  });

  it("takes a tampered single-use value out of the store without returning it", async () => {
    const { inner, store, tampered } = setUp();
    await store.set("code:a", plaintext, 60);
    await inner.set("code:a", flipBit(await rawValue(inner, "code:a"), 40), 60);
    expect(await store.take("code:a")).toBeUndefined();
    expect(await inner.get("code:a")).toBeUndefined();
    expect(tampered).toEqual([{ key: "code:a", reason: "authentication-failed" }]);
  });

  it("reads tampered values as absent even without an onTamper callback", async () => {
    const inner = createMemoryTokenStore();
    const store = createEncryptedTokenStore(inner, randomBytes(32));
    await inner.set("token:a", "not ours", 60);
    expect(await store.get("token:a")).toBeUndefined();
  });

  it("keeps set members in the clear, as the inner store must compare them", async () => {
    const { inner, store } = setUp();
    await store.addToSet("family:f", "token-hash-1", 60);
    await store.addToSet("family:f", "token-hash-1", 60);
    expect(await inner.members("family:f")).toEqual(["token-hash-1"]);
    expect(await store.members("family:f")).toEqual(["token-hash-1"]);
  });

  it("is not changed by a caller later overwriting the key buffer", async () => {
    const key = randomBytes(32);
    const { store } = setUp(key);
    await store.set("token:a", plaintext, 60);
    key.fill(0);
    expect(await store.get("token:a")).toBe(plaintext);
  });

  it("refuses a key that is not 32 bytes", () => {
    for (const length of [0, 16, 31, 33, 64]) {
      expect(() => createEncryptedTokenStore(createMemoryTokenStore(), randomBytes(length))).toThrow(
        expect.objectContaining({ code: "invalid_input" }),
      );
    }
  });
});
