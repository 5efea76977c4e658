import type { ClusterAccess, ClusterSummary, Principal } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import { type ClientIdentity, createUserCatalogs, type WorkloadAuthMode } from "./user-catalog.js";

const clusters: ClusterSummary[] = [{ name: "dev" }, { name: "prod" }];

function token(exp: number, marker: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${encode({ alg: "RS256" })}.${encode({ exp, sub: marker })}.signature`;
}

function principal(overrides: Partial<Principal> = {}): Principal {
  return {
    subject: "alice",
    issuer: "https://idp.example",
    username: "alice@example.com",
    email: "alice@example.com",
    emailVerified: true,
    groups: ["acme-dev"],
    idTokenCustody: undefined,
    ...overrides,
  };
}

function catalogs(mode: WorkloadAuthMode, clock = { now: 1_000_000_000_000 }) {
  const built: { cluster: string; identity: ClientIdentity }[] = [];
  const instance = createUserCatalogs({
    clusters,
    defaultCluster: "dev",
    mode,
    now: () => clock.now,
    connect: (cluster, identity) => {
      built.push({ cluster: cluster.name, identity });
      return { cluster: cluster.name } as unknown as ClusterAccess;
    },
  });
  return { instance, built, clock };
}

describe("per-user cluster catalogs", () => {
  it("impersonates the principal with its groups, its subject and the fixed agent extra", async () => {
    const { instance, built } = catalogs("impersonation");
    await instance.forPrincipal(principal()).access("prod");
    expect(built).toEqual([
      {
        cluster: "prod",
        identity: {
          mode: "impersonation",
          user: "alice@example.com",
          groups: ["acme-dev"],
          extra: { sub: ["alice"], agent: ["capi-mcp"] },
        },
      },
    ]);
  });

  it("reuses one client per cluster and identity, and never gives one user's client to another", async () => {
    const { instance, built } = catalogs("impersonation");
    const first = await instance.forPrincipal(principal()).access("dev");
    const again = await instance.forPrincipal(principal({ groups: ["acme-dev"] })).access("dev");
    const bob = await instance.forPrincipal(principal({ subject: "bob", username: "bob@example.com" })).access("dev");
    const moreGroups = await instance.forPrincipal(principal({ groups: ["acme-dev", "acme-ops"] })).access("dev");
    expect(again).toBe(first);
    expect(bob).not.toBe(first);
    expect(moreGroups).not.toBe(first);
    expect(built).toHaveLength(3);
  });

  it("passes the user's current ID token in SSO mode and builds a new client when the token changes", async () => {
    const { instance, built, clock } = catalogs("sso-passthrough");
    let current = token(clock.now / 1000 + 3600, "one");
    const user = principal({ idTokenCustody: { currentIdToken: async () => current } });
    const first = await instance.forPrincipal(user).access("dev");
    expect(await instance.forPrincipal(user).access("dev")).toBe(first);
    current = token(clock.now / 1000 + 7200, "two");
    const refreshed = await instance.forPrincipal(user).access("dev");
    expect(refreshed).not.toBe(first);
    expect(built.map((entry) => entry.identity)).toEqual([
      { mode: "sso-passthrough", idToken: token(clock.now / 1000 + 3600, "one") },
      { mode: "sso-passthrough", idToken: current },
    ]);
  });

  it("never keeps an SSO client past its token's expiry", async () => {
    const { instance, built, clock } = catalogs("sso-passthrough");
    const short = token(clock.now / 1000 + 60, "short");
    const user = principal({ idTokenCustody: { currentIdToken: async () => short } });
    await instance.forPrincipal(user).access("dev");
    clock.now += 61_000;
    await expect(instance.forPrincipal(user).access("dev")).rejects.toMatchObject({ code: "unauthenticated" });
    expect(built).toHaveLength(1);
  });

  it("refuses SSO passthrough without an ID token, and never falls back to any other credentials", async () => {
    const { instance, built } = catalogs("sso-passthrough");
    await expect(instance.forPrincipal(principal()).access("dev")).rejects.toMatchObject({
      code: "unauthenticated",
      message: expect.stringContaining("Log in again"),
    });
    expect(built).toEqual([]);
  });

  it("answers an unknown cluster like a forbidden one", async () => {
    const { instance } = catalogs("impersonation");
    await expect(instance.forPrincipal(principal()).access("staging")).rejects.toMatchObject({
      code: "cluster_not_found",
    });
  });
});
