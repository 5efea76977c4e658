import { describe, expect, it } from "vitest";
import { createClientAddressResolver, normalizeAddress, parseCidr } from "./client-address.js";

const headers = (values: Record<string, string>) => new Headers(values);

describe("the client address", () => {
  const behindProxy = createClientAddressResolver({
    trustedProxies: ["10.0.0.0/8", "fd00::/8"],
    header: "x-forwarded-for",
  });

  it("is the connection's peer when no proxy is trusted, whatever the forwarding headers say", () => {
    const direct = createClientAddressResolver({ trustedProxies: [], header: "x-forwarded-for" });
    const forged = headers({ "x-forwarded-for": "198.51.100.9", forwarded: "for=198.51.100.9" });
    expect(direct("203.0.113.5", forged)).toBe("203.0.113.5");
  });

  it("ignores the forwarding header of a peer that is not a trusted proxy", () => {
    expect(behindProxy("203.0.113.5", headers({ "x-forwarded-for": "198.51.100.9" }))).toBe("203.0.113.5");
  });

  it("takes the address the trusted proxy saw, not what the client wrote to the left of it", () => {
    const chain = headers({ "x-forwarded-for": "198.51.100.9, 192.0.2.44" });
    expect(behindProxy("10.1.2.3", chain)).toBe("192.0.2.44");
  });

  it("walks right to left past every trusted hop", () => {
    const chain = headers({ "x-forwarded-for": "1.1.1.1, 192.0.2.44, 10.9.9.9, 10.8.8.8" });
    expect(behindProxy("10.1.2.3", chain)).toBe("192.0.2.44");
  });

  it("stops at the nearest trusted hop when a trusted proxy wrote something that is not an address", () => {
    expect(behindProxy("10.1.2.3", headers({ "x-forwarded-for": "192.0.2.44, unknown" }))).toBe("10.1.2.3");
    expect(behindProxy("10.1.2.3", headers({ "x-forwarded-for": "192.0.2.44, garbage, 10.4.4.4" }))).toBe("10.4.4.4");
  });

  it("is the peer when a trusted proxy sends no header, and the leftmost hop when every hop is trusted", () => {
    expect(behindProxy("10.1.2.3", headers({}))).toBe("10.1.2.3");
    expect(behindProxy("10.1.2.3", headers({ "x-forwarded-for": "10.7.7.7, 10.8.8.8" }))).toBe("10.7.7.7");
  });

  it("reads ports, brackets and IPv4-mapped IPv6, giving one spelling per client", () => {
    expect(behindProxy("::ffff:10.1.2.3", headers({ "x-forwarded-for": "192.0.2.44:5555" }))).toBe("192.0.2.44");
    expect(behindProxy("fd00::1", headers({ "x-forwarded-for": "[2001:DB8::7]:443" }))).toBe("2001:db8::7");
    expect(behindProxy("::ffff:203.0.113.5", headers({ "x-forwarded-for": "192.0.2.44" }))).toBe("203.0.113.5");
  });

  it("reads only the configured header, so a client cannot slip in the other one", () => {
    const chain = headers({ forwarded: "for=198.51.100.9", "x-forwarded-for": "192.0.2.44" });
    expect(behindProxy("10.1.2.3", chain)).toBe("192.0.2.44");
    const forwarded = createClientAddressResolver({ trustedProxies: ["10.0.0.0/8"], header: "forwarded" });
    expect(forwarded("10.1.2.3", chain)).toBe("198.51.100.9");
  });

  it("reads RFC 7239 Forwarded elements with quoting, ports and other parameters", () => {
    const forwarded = createClientAddressResolver({ trustedProxies: ["10.0.0.0/8"], header: "forwarded" });
    const chain = headers({
      forwarded: 'for=198.51.100.9;proto=https, for="[2001:db8:cafe::17]:4711";by=10.0.0.1, for=10.2.2.2',
    });
    expect(forwarded("10.1.2.3", chain)).toBe("2001:db8:cafe::17");
    expect(forwarded("10.1.2.3", headers({ forwarded: "for=_hidden, proto=https" }))).toBe("10.1.2.3");
  });

  it("is undefined when the peer is unknown", () => {
    expect(behindProxy(undefined, headers({ "x-forwarded-for": "192.0.2.44" }))).toBeUndefined();
  });
});

describe("trusted proxy CIDRs", () => {
  it.each([
    ["10.0.0.0/8", { address: "10.0.0.0", prefix: 8, family: "ipv4" }],
    ["127.0.0.1", { address: "127.0.0.1", prefix: 32, family: "ipv4" }],
    ["fd00::/8", { address: "fd00::", prefix: 8, family: "ipv6" }],
    ["::1", { address: "::1", prefix: 128, family: "ipv6" }],
  ])("parses %s", (text, expected) => {
    expect(parseCidr(text)).toEqual(expected);
  });

  it.each(["10.0.0.0/33", "fd00::/129", "10.0.0/8", "example.com/8", "10.0.0.0/8/8", "10.0.0.0/-1", "", "[::1]/128"])(
    "refuses %s",
    (text) => {
      expect(parseCidr(text)).toBeUndefined();
      expect(() => createClientAddressResolver({ trustedProxies: [text], header: "x-forwarded-for" })).toThrow(
        TypeError,
      );
    },
  );

  it("normalizes addresses and refuses names", () => {
    expect(normalizeAddress("[::1]")).toBe("::1");
    expect(normalizeAddress("fe80::1%eth0")).toBe("fe80::1");
    expect(normalizeAddress("localhost")).toBeUndefined();
  });
});
