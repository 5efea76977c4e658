import { GatewayError } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";

const home = "/home/tester";

function refusal(flags: Record<string, string | boolean>): string {
  try {
    loadConfig({ flags, environment: {}, homeDirectory: home });
  } catch (error) {
    if (error instanceof GatewayError) return error.message;
    throw error;
  }
  throw new Error("expected the configuration to be refused");
}

describe("OAuth client-address and registration options", () => {
  it("defaults to no trusted proxy, X-Forwarded-For, a 5000-client cap, a 1-hour unused lifetime and private-use schemes on", () => {
    expect(loadConfig({ flags: {}, environment: {}, homeDirectory: home })).toMatchObject({
      trustedProxies: [],
      clientAddressHeader: "x-forwarded-for",
      maxRegisteredClients: 5000,
      unusedClientLifetime: 3_600_000,
      allowPrivateUseRedirectSchemes: true,
    });
  });

  it("reads trusted proxies as a list of CIDRs, from a flag or the environment", () => {
    const fromFlag = loadConfig({
      flags: { trustedProxies: "10.0.0.0/8, fd00::/8,127.0.0.10" },
      environment: {},
      homeDirectory: home,
    });
    expect(fromFlag.trustedProxies).toEqual(["10.0.0.0/8", "fd00::/8", "127.0.0.10"]);
    const fromEnvironment = loadConfig({
      flags: {},
      environment: { CAPI_MCP_TRUSTED_PROXIES: "192.168.0.0/16", CAPI_MCP_CLIENT_ADDRESS_HEADER: "forwarded" },
      homeDirectory: home,
    });
    expect(fromEnvironment).toMatchObject({ trustedProxies: ["192.168.0.0/16"], clientAddressHeader: "forwarded" });
  });

  it("refuses a malformed CIDR, naming the flag and the expected form", () => {
    expect(refusal({ trustedProxies: "10.0.0.0/33" })).toMatch(/--trusted-proxies.*expected CIDRs/);
    expect(refusal({ trustedProxies: "ingress.example.com" })).toMatch(/--trusted-proxies/);
  });

  it("refuses an unknown client address header and a registration cap below one", () => {
    expect(refusal({ clientAddressHeader: "x-real-ip" })).toMatch(/--client-address-header/);
    expect(refusal({ maxRegisteredClients: "0" })).toMatch(/--max-registered-clients/);
    expect(refusal({ unusedClientLifetime: "10s" })).toMatch(/--unused-client-lifetime/);
  });
});
