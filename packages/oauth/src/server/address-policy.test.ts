import { describe, expect, it } from "vitest";
import { classifyAddress } from "./address-policy.js";

describe("classifyAddress", () => {
  it.each([
    "0.0.0.0",
    "10.1.2.3",
    "100.64.0.1",
    "100.127.255.255",
    "127.0.0.1",
    "169.254.169.254",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.0.1",
    "192.0.0.8",
    "198.18.0.1",
    "224.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",
    "64:ff9b::a00:1",
    "2002:a00:1::",
    "2001:0:4136:e378::1",
    "2001:db8::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "fe80::1%eth0",
    "ff02::1",
    "not-an-address",
  ])("refuses %s", (address) => {
    expect(classifyAddress(address).allowed).toBe(false);
  });

  it.each([
    "93.184.215.14",
    "8.8.8.8",
    "172.32.0.1",
    "100.128.0.1",
    "2606:4700::1111",
    "::ffff:8.8.8.8",
    "2a00:1450:4001::200e",
  ])("allows the public address %s", (address) => {
    expect(classifyAddress(address)).toEqual({ allowed: true });
  });

  it("names the reason", () => {
    expect(classifyAddress("::ffff:10.0.0.1")).toEqual({ allowed: false, reason: "IPv4-mapped private address" });
    expect(classifyAddress("100.64.0.1")).toEqual({ allowed: false, reason: "carrier-grade NAT address" });
  });
});
