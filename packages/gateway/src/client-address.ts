// The one answer to "which address is this client?", for everything in the gateway that keys on
// a client address (the OAuth endpoints' rate limits). Behind a reverse proxy every connection
// comes from the proxy, so its forwarding header must be read; but anyone can send that header,
// so it is read only when the connection comes from a configured trusted proxy, and only as far
// as the chain of trusted hops goes.
import { BlockList, isIPv4, isIPv6 } from "node:net";
import type { Context } from "hono";

export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: "ipv4" | "ipv6";
}

export type ClientAddressHeader = "x-forwarded-for" | "forwarded";

export interface ClientAddressSettings {
  /** CIDRs (or single addresses) of the proxies allowed to say who the client is. */
  readonly trustedProxies: readonly string[];
  /** Which header those proxies set. Only that one is read: the other may be the client's own. */
  readonly header: ClientAddressHeader;
}

/** Resolves the client's address from the connection's peer and the request's headers. */
export type ClientAddressResolver = (peerAddress: string | undefined, headers: Headers) => string | undefined;

/** More hops than any real proxy chain; past this the nearest trusted hop is the answer. */
const maximumHops = 32;

/**
 * An address without decoration: brackets, a zone id and the IPv4-mapped IPv6 form (a dual-stack
 * socket reports `::ffff:10.0.0.1`) are removed, so one client has one spelling. Undefined when
 * the text is not an IP address.
 */
export function normalizeAddress(text: string): string | undefined {
  let address = text.trim();
  if (address.startsWith("[") && address.endsWith("]")) address = address.slice(1, -1);
  const zone = address.indexOf("%");
  if (zone >= 0) address = address.slice(0, zone);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1] !== undefined) address = mapped[1];
  if (isIPv4(address)) return address;
  if (isIPv6(address)) return address.toLowerCase();
  return undefined;
}

/** `10.0.0.0/8`, `fd00::/8`, or a single address (a /32 or /128). Undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const [addressText = "", prefixText, ...rest] = text.trim().split("/");
  if (rest.length > 0) return undefined;
  const address = normalizeAddress(addressText);
  if (address === undefined || addressText.includes("[")) return undefined;
  const family = isIPv4(address) ? "ipv4" : "ipv6";
  const maximum = family === "ipv4" ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? maximum : Number(prefixText);
  if (prefix > maximum) return undefined;
  return { address, prefix, family };
}

/**
 * One hop of a forwarding header: an address, possibly with a port (`203.0.113.7:4711`,
 * `[2001:db8::1]:4711`) or quoted. Undefined for anything else (`unknown`, obfuscated names).
 */
function hopAddress(text: string): string | undefined {
  let value = text.trim();
  if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1).trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(value);
  if (bracketed?.[1] !== undefined) return normalizeAddress(bracketed[1]);
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(value);
  if (withPort?.[1] !== undefined) return normalizeAddress(withPort[1]);
  return normalizeAddress(value);
}

/** Splits on commas outside quoted strings (RFC 7239 values may be quoted). */
function splitElements(header: string): string[] {
  const elements: string[] = [];
  let current = "";
  let quoted = false;
  for (const character of header) {
    if (character === '"') quoted = !quoted;
    if (character === "," && !quoted) {
      elements.push(current);
      current = "";
    } else {
      current += character;
    }
  }
  elements.push(current);
  return elements;
}

/** The hops of X-Forwarded-For, nearest last; undefined marks a hop that is not an address. */
export function forwardedForHops(header: string): (string | undefined)[] {
  return header.split(",").map(hopAddress);
}

/** The `for=` of each RFC 7239 Forwarded element, nearest last; undefined where absent or not an address. */
export function forwardedHops(header: string): (string | undefined)[] {
  return splitElements(header).map((element) => {
    for (const pair of element.split(";")) {
      const separator = pair.indexOf("=");
      if (separator > 0 && pair.slice(0, separator).trim().toLowerCase() === "for") {
        return hopAddress(pair.slice(separator + 1));
      }
    }
    return undefined;
  });
}

export function createClientAddressResolver(settings: ClientAddressSettings): ClientAddressResolver {
  const trusted = new BlockList();
  for (const text of settings.trustedProxies) {
    const cidr = parseCidr(text);
    if (cidr === undefined) throw new TypeError(`${JSON.stringify(text)} is not a CIDR or an IP address.`);
    trusted.addSubnet(cidr.address, cidr.prefix, cidr.family);
  }
  const isTrusted = (address: string) => trusted.check(address, isIPv4(address) ? "ipv4" : "ipv6");
  const readHops = settings.header === "forwarded" ? forwardedHops : forwardedForHops;

  return (peerAddress, headers) => {
    const peer = peerAddress === undefined ? undefined : normalizeAddress(peerAddress);
    // An untrusted peer may be the client itself: whatever it says about forwarding is ignored.
    if (peer === undefined || !isTrusted(peer)) return peer;
    const header = headers.get(settings.header);
    if (header === null) return peer;
    // Each trusted proxy appends the address it saw, so the chain is read from the right: the
    // first hop that is not a trusted proxy is the client. Everything left of it was written by
    // that client and proves nothing.
    const hops = readHops(header);
    let nearestTrusted = peer;
    for (let index = hops.length - 1, walked = 0; index >= 0 && walked < maximumHops; index -= 1, walked += 1) {
      const hop = hops[index];
      // A trusted proxy wrote something that is not an address: nothing beyond it can be
      // believed, so the last hop we trust stands for the client.
      if (hop === undefined) return nearestTrusted;
      if (!isTrusted(hop)) return hop;
      nearestTrusted = hop;
    }
    return nearestTrusted;
  };
}

/** The connection's peer address, as the Node server adapter saw it. */
export function peerAddressOf(context: Context): string | undefined {
  const incoming = (context.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress;
}
