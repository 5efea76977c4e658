// Which IP addresses the server may fetch a client's metadata document from. Only public unicast
// addresses pass: anything that reaches the gateway's own network (loopback, private, link-local,
// CGNAT, cloud metadata at 169.254.169.254) or cannot be a unicast host is refused, including
// IPv4 hidden inside IPv6 (mapped, compatible, NAT64, 6to4, Teredo).
import { isIPv4, isIPv6 } from "node:net";

interface Range {
  readonly bytes: readonly number[];
  readonly bits: number;
  readonly name: string;
}

function ipv4Range(cidr: string, name: string): Range {
  const [address = "", bits = "32"] = cidr.split("/");
  return { bytes: parseIpv4(address) ?? [], bits: Number(bits), name };
}

function ipv6Range(cidr: string, name: string): Range {
  const [address = "", bits = "128"] = cidr.split("/");
  return { bytes: parseIpv6(address) ?? [], bits: Number(bits), name };
}

const refusedIpv4: readonly Range[] = [
  ipv4Range("0.0.0.0/8", "unspecified"),
  ipv4Range("10.0.0.0/8", "private"),
  ipv4Range("100.64.0.0/10", "carrier-grade NAT"),
  ipv4Range("127.0.0.0/8", "loopback"),
  ipv4Range("169.254.0.0/16", "link-local"),
  ipv4Range("172.16.0.0/12", "private"),
  ipv4Range("192.0.0.0/24", "IETF protocol assignments"),
  ipv4Range("192.0.2.0/24", "documentation"),
  ipv4Range("192.88.99.0/24", "6to4 relay"),
  ipv4Range("192.168.0.0/16", "private"),
  ipv4Range("198.18.0.0/15", "benchmarking"),
  ipv4Range("198.51.100.0/24", "documentation"),
  ipv4Range("203.0.113.0/24", "documentation"),
  ipv4Range("224.0.0.0/4", "multicast"),
  ipv4Range("240.0.0.0/4", "reserved"),
];

// Ranges that embed an IPv4 address are refused whole rather than decoded: a public client has
// no reason to publish its metadata behind a transition mechanism.
const refusedIpv6: readonly Range[] = [
  ipv6Range("::/128", "unspecified"),
  ipv6Range("::1/128", "loopback"),
  ipv6Range("::/96", "IPv4-compatible"),
  ipv6Range("64:ff9b::/96", "NAT64"),
  ipv6Range("64:ff9b:1::/48", "NAT64 (local)"),
  ipv6Range("100::/64", "discard"),
  ipv6Range("2001::/23", "IETF protocol assignments (Teredo)"),
  ipv6Range("2001:db8::/32", "documentation"),
  ipv6Range("2002::/16", "6to4"),
  ipv6Range("fc00::/7", "unique local (private)"),
  ipv6Range("fe80::/10", "link-local"),
  ipv6Range("fec0::/10", "site-local"),
  ipv6Range("ff00::/8", "multicast"),
];

const globalUnicastIpv6 = ipv6Range("2000::/3", "global unicast");
const ipv4MappedIpv6 = ipv6Range("::ffff:0:0/96", "IPv4-mapped");
const ipv4TranslatedIpv6 = ipv6Range("::ffff:0:0:0/96", "IPv4-translated");

function parseIpv4(address: string): number[] | undefined {
  if (!isIPv4(address)) {
    return undefined;
  }
  return address.split(".").map(Number);
}

/** Parses an IPv6 address (with `::` and an optional trailing dotted quad) into 16 bytes. */
function parseIpv6(input: string): number[] | undefined {
  const address = input.replace(/%.*$/, "");
  if (!isIPv6(address)) {
    return undefined;
  }
  let text = address;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  const trailing = text.slice(lastColon + 1);
  if (trailing.includes(".")) {
    const quad = parseIpv4(trailing);
    if (quad === undefined) {
      return undefined;
    }
    tail.push(...quad);
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head = "", rest] = text.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const restGroups = rest === undefined || rest === "" ? [] : rest.split(":");
  const missing = 8 - headGroups.length - restGroups.length;
  const groups = rest === undefined ? headGroups : [...headGroups, ...Array<string>(missing).fill("0"), ...restGroups];
  if (groups.length !== 8) {
    return undefined;
  }
  const bytes: number[] = [];
  for (const group of groups) {
    const value = Number.parseInt(group, 16);
    bytes.push(value >> 8, value & 0xff);
  }
  if (tail.length === 4) {
    bytes.splice(12, 4, ...tail);
  }
  return bytes;
}

function inRange(bytes: readonly number[], range: Range): boolean {
  let remaining = range.bits;
  for (let index = 0; remaining > 0; index += 1) {
    const mask = remaining >= 8 ? 0xff : (0xff << (8 - remaining)) & 0xff;
    if (((bytes[index] ?? 0) & mask) !== ((range.bytes[index] ?? 0) & mask)) {
      return false;
    }
    remaining -= 8;
  }
  return true;
}

export type AddressVerdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/** Decides whether an IP address literal is a public unicast address. */
export function classifyAddress(address: string): AddressVerdict {
  const ipv4 = parseIpv4(address);
  if (ipv4 !== undefined) {
    const refused = refusedIpv4.find((range) => inRange(ipv4, range));
    return refused === undefined ? { allowed: true } : { allowed: false, reason: `${refused.name} address` };
  }
  const ipv6 = parseIpv6(address);
  if (ipv6 === undefined) {
    return { allowed: false, reason: "not an IP address" };
  }
  if (inRange(ipv6, ipv4MappedIpv6) || inRange(ipv6, ipv4TranslatedIpv6)) {
    // The connection would go to the IPv4 address inside, so that address decides.
    const verdict = classifyAddress(ipv6.slice(12).join("."));
    return verdict.allowed ? verdict : { allowed: false, reason: `IPv4-mapped ${verdict.reason}` };
  }
  const refused = refusedIpv6.find((range) => inRange(ipv6, range));
  if (refused !== undefined) {
    return { allowed: false, reason: `${refused.name} address` };
  }
  if (!inRange(ipv6, globalUnicastIpv6)) {
    return { allowed: false, reason: "reserved address" };
  }
  return { allowed: true };
}
