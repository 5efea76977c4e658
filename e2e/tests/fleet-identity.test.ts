// The fleet's OpenID provider is real and the workload API servers trust it: ID tokens for the
// gateway's client authenticate as the user (email, groups); anything else is refused.
import { randomBytes } from "node:crypto";
import * as k8s from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import type { FleetInfo } from "../fleet/fleet.ts";
import { jwtClaims, LoginFailedError, loginAs, type TokenSet } from "../fleet/login.ts";
import { auditEventsMatching, fleetInfo, kubeConfigFor } from "../fleet/test-context.ts";

let info: FleetInfo;
let alice: TokenSet;
beforeAll(async () => {
  info = await fleetInfo();
  alice = await loginAs(info, "alice");
});

describe("the fleet's OpenID provider", () => {
  it("issues alice an ID token for the gateway's client with her email, verified flag and groups", () => {
    const claims = jwtClaims(alice.idToken);
    expect(claims).toMatchObject({
      iss: info.oidc.issuer,
      aud: info.oidc.gatewayClient.clientId,
      email: "alice@example.com",
      email_verified: true,
      groups: ["acme-dev"],
    });
    expect(alice.refreshToken).toBeTruthy();
  });

  it("refuses a wrong password", async () => {
    await expect(loginAs(info, "bob", { password: "not-bobs-password" })).rejects.toBeInstanceOf(LoginFailedError);
  });

  it("reports eve's email as unverified, as the gateway will need to see", async () => {
    const eve = await loginAs(info, "eve");
    expect(jwtClaims(eve.idToken)).toMatchObject({ email: "eve@example.com", email_verified: false });
  });
});

describe("workload API servers with OIDC", () => {
  it("authenticate alice's ID token as alice@example.com in group acme-dev, and her RBAC applies", async () => {
    const core = (await kubeConfigFor(info, "org-acme/dev", alice.idToken)).makeApiClient(k8s.CoreV1Api);
    const pods = await core.listNamespacedPod({ namespace: "web" });
    expect(pods.items.length).toBeGreaterThan(0);
    await expect(core.listNamespacedPod({ namespace: "kube-system" })).rejects.toMatchObject({ code: 403 });

    const marker = `oidc-probe-${randomBytes(6).toString("hex")}`;
    await expect(core.readNamespacedConfigMap({ namespace: "web", name: marker })).rejects.toMatchObject({ code: 404 });
    const [event] = await auditEventsMatching(info, "org-acme/dev", marker);
    expect(event?.user.username).toBe("alice@example.com");
    expect(event?.user.groups).toEqual(expect.arrayContaining(["acme-dev", "system:authenticated"]));
    expect(event?.impersonatedUser).toBeUndefined();
  });

  it("refuse an ID token issued to another client (wrong audience)", async () => {
    const other = await loginAs(info, "alice", { client: info.oidc.otherClient });
    expect(jwtClaims(other.idToken).aud).toBe(info.oidc.otherClient.clientId);
    const core = (await kubeConfigFor(info, "org-acme/dev", other.idToken)).makeApiClient(k8s.CoreV1Api);
    await expect(core.listNamespacedPod({ namespace: "web" })).rejects.toMatchObject({ code: 401 });
  });

  it("refuse a token whose claims were altered", async () => {
    const [header, payload, signature] = alice.idToken.split(".");
    const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
    const forged = [
      header,
      Buffer.from(JSON.stringify({ ...claims, groups: ["system:masters"] })).toString("base64url"),
      signature,
    ].join(".");
    const core = (await kubeConfigFor(info, "org-acme/dev", forged)).makeApiClient(k8s.CoreV1Api);
    await expect(core.listNamespacedPod({ namespace: "kube-system" })).rejects.toMatchObject({ code: 401 });
  });

  it("refuse the provider's access token, which is not an ID token", async () => {
    const core = (await kubeConfigFor(info, "org-acme/dev", alice.accessToken)).makeApiClient(k8s.CoreV1Api);
    await expect(core.listNamespacedPod({ namespace: "web" })).rejects.toMatchObject({ code: 401 });
  });

  it("grant mallory's hostile system:masters claim as given, which is why the gateway must refuse her", async () => {
    const mallory = await loginAs(info, "mallory");
    expect(jwtClaims(mallory.idToken).groups).toContain("system:masters");
    const core = (await kubeConfigFor(info, "org-globex/prod", mallory.idToken)).makeApiClient(k8s.CoreV1Api);
    const secrets = await core.listNamespacedSecret({ namespace: "payments" });
    expect(secrets.items.map((secret) => secret.metadata?.name)).toContain("db-credentials");
  });
});
