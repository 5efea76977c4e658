import { randomBytes } from "node:crypto";
import { type ClusterAccess, GatewayError, type KubeObject, type ListOptions, seededRandom } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import { type ContinueTokenBinding, createContinueTokenSealer } from "./continue-tokens.js";
import { createGuard } from "./guard.js";
import type { GuardSettings } from "./guard-settings.js";
import { guardClusterAccess } from "./guarded-cluster-access.js";
import { createInMemoryClusterAccess, testResources } from "./testing/in-memory-cluster-access.js";

const binding: ContinueTokenBinding = { caller: "alice", cluster: "org-acme/dev", query: '["","pods","web","",""]' };

function refusal(run: () => unknown): GatewayError {
  try {
    run();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("sealed continue tokens", () => {
  it("open to the position they seal, and disclose nothing of it", () => {
    const sealer = createContinueTokenSealer();
    const position = Buffer.from(JSON.stringify({ rv: 42, start: "kube-system/bootstrap-token\u0000" })).toString(
      "base64",
    );
    const token = sealer.seal(position, binding);
    expect(sealer.open(token, binding)).toBe(position);
    const decoded = Buffer.from(token.replace(/^capi-mcp-continue\.v1\./, ""), "base64url").toString("latin1");
    expect(decoded).not.toContain("kube-system");
    expect(token).not.toContain(position.slice(0, 12));
  });

  it("refuse any edited token, whatever character is changed", () => {
    const sealer = createContinueTokenSealer();
    const token = sealer.seal("position-1", binding);
    const random = seededRandom(15);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    let refused = 0;
    for (let attempt = 0; attempt < 500; attempt++) {
      const index = Math.floor(random() * token.length);
      const replacement = alphabet[Math.floor(random() * alphabet.length)] ?? "A";
      const edited = token.slice(0, index) + replacement + token.slice(index + 1);
      // base64url's last character carries padding bits, so one edit there can decode alike.
      const prefixLength = "capi-mcp-continue.v1.".length;
      const decodesAlike =
        index >= prefixLength &&
        Buffer.from(edited.slice(prefixLength), "base64url").equals(
          Buffer.from(token.slice(prefixLength), "base64url"),
        );
      if (edited === token || decodesAlike) continue;
      const error = refusal(() => sealer.open(edited, binding));
      expect(error.code).toBe("invalid_input");
      expect(error.message).toContain("List again from the start");
      refused += 1;
    }
    expect(refused).toBeGreaterThan(450);
  });

  it("refuse a token for another caller, cluster or query, from another key, or past its age", () => {
    let now = 1_000_000;
    const sealer = createContinueTokenSealer({ maximumAgeMilliseconds: 60_000, now: () => now });
    const token = sealer.seal("position-1", binding);
    for (const other of [
      { ...binding, caller: "mallory" },
      { ...binding, cluster: "org-acme/prod" },
      { ...binding, query: '["","pods","kube-system","",""]' },
    ]) {
      expect(refusal(() => sealer.open(token, other)).code).toBe("invalid_input");
    }
    expect(refusal(() => createContinueTokenSealer().open(token, binding)).code).toBe("invalid_input");
    expect(refusal(() => sealer.open("eyJydiI6NDJ9", binding)).message).toContain(
      "not a token this gateway handed out",
    );
    now += 60_001;
    expect(refusal(() => sealer.open(token, binding)).message).toContain("expired");
  });

  it("open on every replica that shares the configured key", () => {
    const key = randomBytes(32);
    const token = createContinueTokenSealer({ key }).seal("position-1", binding);
    expect(createContinueTokenSealer({ key: Buffer.from(key) }).open(token, binding)).toBe("position-1");
    expect(() => createContinueTokenSealer({ key: randomBytes(16) })).toThrow(/32 bytes/);
  });
});

const ruleSets: Record<string, GuardSettings> = {
  "no namespace rules": {
    nonDestructive: true,
    dryRun: false,
    allowOperations: [],
    deniedNamespaces: [],
    allowSecretValues: false,
  },
  "a deny list": {
    nonDestructive: true,
    dryRun: false,
    allowOperations: [],
    deniedNamespaces: ["kube-system"],
    allowSecretValues: false,
  },
  "an allow list": {
    nonDestructive: true,
    dryRun: false,
    allowOperations: [],
    allowedNamespaces: ["web", "team-a"],
    deniedNamespaces: [],
    allowSecretValues: false,
  },
};

function seededCluster(): ClusterAccess & { calls: { method: string; args: readonly unknown[] }[] } {
  const upstream = createInMemoryClusterAccess("org-acme/dev");
  for (const namespace of ["web", "team-a", "kube-system"]) {
    upstream.seed(testResources.namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
    for (let index = 0; index < 7; index++) {
      const pod: KubeObject = { apiVersion: "v1", kind: "Pod", metadata: { name: `pod-${index}`, namespace } };
      upstream.seed(testResources.pods, pod);
    }
  }
  return upstream;
}

describe("continue tokens through the guard", () => {
  for (const [rules, settings] of Object.entries(ruleSets)) {
    it(`are sealed on every list path with ${rules}, and a walk shows every open object once`, async () => {
      const guard = createGuard(settings);
      const upstream = seededCluster();
      const guarded = guard.guardAccess(upstream);
      for (const options of [{}, { namespace: "web" }] as ListOptions[]) {
        for (const limit of [1, 2, 3, 5]) {
          const seen: string[] = [];
          let token: string | undefined;
          let pages = 0;
          do {
            const page = await guarded.list(testResources.pods, {
              ...options,
              limit,
              ...(token ? { continue: token } : {}),
            });
            seen.push(...page.items.map((item) => `${item.metadata?.namespace}/${item.metadata?.name}`));
            token = page.metadata?.continue;
            if (token !== undefined) expect(token).toMatch(/^capi-mcp-continue\.v1\.[A-Za-z0-9_-]+$/);
            pages += 1;
          } while (token !== undefined && pages < 100);
          const expected = (await upstream.list(testResources.pods, options)).items
            .map((item) => `${item.metadata?.namespace}/${item.metadata?.name}`)
            .filter((name) => guard.namespaceAllowed(name.split("/")[0] ?? ""));
          expect([...seen].sort()).toEqual([...expected].sort());
          expect(new Set(seen).size).toBe(seen.length);
        }
      }
    });
  }

  it("refuse another user's token before anything reaches the cluster", async () => {
    const guard = createGuard(ruleSets["a deny list"] as GuardSettings);
    const upstream = seededCluster();
    const alice = {
      subject: "a",
      issuer: "https://idp",
      username: "alice",
      email: undefined,
      emailVerified: false,
      groups: [],
      idTokenCustody: undefined,
    };
    const page = await guard.guardAccess(upstream, alice).list(testResources.pods, { limit: 2 });
    const token = page.metadata?.continue ?? "";
    const calls = upstream.calls.length;
    const mallory = guard.guardAccess(upstream, { ...alice, subject: "m", username: "mallory" });
    await expect(mallory.list(testResources.pods, { limit: 2, continue: token })).rejects.toMatchObject({
      code: "invalid_input",
    });
    // The same token for another query (namespace) is refused too.
    await expect(
      guard.guardAccess(upstream, alice).list(testResources.pods, { namespace: "web", limit: 2, continue: token }),
    ).rejects.toMatchObject({ code: "invalid_input" });
    expect(upstream.calls.length).toBe(calls);
    // And a guard with another (random) key cannot open it.
    const other = guardClusterAccess(upstream, ruleSets["a deny list"] as GuardSettings, {
      continueTokens: createContinueTokenSealer(),
      caller: "alice",
    });
    await expect(other.list(testResources.pods, { limit: 2, continue: token })).rejects.toMatchObject({
      code: "invalid_input",
    });
  });
});
