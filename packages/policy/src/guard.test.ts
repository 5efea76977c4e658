import {
  GatewayError,
  type GuardedOperation,
  guardedOperations,
  type OperationClass,
  operationClasses,
  type Principal,
} from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import { createGuard } from "./guard.js";
import type { GuardSettings } from "./guard-settings.js";
import { createInMemoryClusterAccess, testResources } from "./testing/in-memory-cluster-access.js";

const defaults: GuardSettings = {
  nonDestructive: true,
  dryRun: false,
  allowOperations: [],
  deniedNamespaces: [],
  allowSecretValues: false,
};

const toolFor: Record<OperationClass, string> = {
  read: "k8s_get_resource",
  session: "k8s_switch_context",
  create: "k8s_create_resource",
  apply: "k8s_apply_resource",
  patch: "k8s_patch_resource",
  scale: "k8s_scale_resource",
  delete: "k8s_delete_resource",
  exec: "k8s_exec_pod",
  "port-forward": "k8s_port_forward_pod",
};

const tools = operationClasses.map((operation) => ({ name: toolFor[operation], operation }));

function offered(settings: Partial<GuardSettings>): string[] {
  const guard = createGuard({ ...defaults, ...settings });
  return tools.filter((tool) => guard.offers(tool)).map((tool) => tool.name);
}

describe("the guard's modes", () => {
  it("offers only read and session tools in non-destructive mode", () => {
    expect(offered({})).toEqual(["k8s_get_resource", "k8s_switch_context"]);
  });

  it("offers every tool when non-destructive mode is off and dry-run is off", () => {
    expect(offered({ nonDestructive: false })).toEqual(tools.map((tool) => tool.name));
  });

  it("offers exactly the operations named in allowOperations on top of reads", () => {
    expect(offered({ allowOperations: ["delete", "exec"] })).toEqual([
      "k8s_get_resource",
      "k8s_switch_context",
      "k8s_delete_resource",
      "k8s_exec_pod",
    ]);
  });

  it("offers the dry-runnable mutations but never exec or port-forward in dry-run mode", () => {
    const expected = [
      "k8s_get_resource",
      "k8s_switch_context",
      "k8s_create_resource",
      "k8s_apply_resource",
      "k8s_patch_resource",
      "k8s_scale_resource",
      "k8s_delete_resource",
    ];
    expect(offered({ dryRun: true })).toEqual(expected);
    expect(offered({ dryRun: true, nonDestructive: false })).toEqual(expected);
    expect(offered({ dryRun: true, allowOperations: [...guardedOperations] })).toEqual(expected);
  });

  it("refuses a guarded tool in non-destructive mode with a message naming the flag that allows it", () => {
    const decision = createGuard(defaults).decide({ name: "k8s_delete_resource", operation: "delete" });
    expect(decision.allowed).toBe(false);
    if (decision.allowed) return;
    expect(decision.error).toBeInstanceOf(GatewayError);
    expect(decision.error.code).toBe("denied_by_policy");
    expect(decision.error.message).toBe(
      "k8s_delete_resource is disabled: the gateway runs in non-destructive mode. An operator can allow it with " +
        "--allow-operations delete, or enable --dry-run to try mutations as server-side dry runs.",
    );
  });

  it("does not suggest dry-run for exec, which has no dry run", () => {
    const decision = createGuard(defaults).decide({ name: "k8s_exec_pod", operation: "exec" });
    expect(decision.allowed).toBe(false);
    if (decision.allowed) return;
    expect(decision.error.message).toBe(
      "k8s_exec_pod is disabled: the gateway runs in non-destructive mode. An operator can allow it with " +
        "--allow-operations exec.",
    );
  });

  it.each<GuardedOperation>(["exec", "port-forward"])(
    "refuses %s in dry-run mode even when allowOperations names it",
    (operation) => {
      const guard = createGuard({ ...defaults, dryRun: true, allowOperations: [operation] });
      const decision = guard.decide({ name: toolFor[operation], operation });
      expect(decision.allowed).toBe(false);
      if (decision.allowed) return;
      expect(decision.error.code).toBe("denied_by_policy");
      expect(decision.error.message).toContain("dry-run mode");
      expect(decision.error.message).toContain("--dry-run off");
    },
  );

  it("decides mutations as dry runs in dry-run mode and reads as ordinary calls", () => {
    const guard = createGuard({ ...defaults, dryRun: true });
    expect(guard.decide({ name: "k8s_apply_resource", operation: "apply" })).toEqual({ allowed: true, dryRun: true });
    expect(guard.decide({ name: "k8s_get_resource", operation: "read" })).toEqual({ allowed: true, dryRun: false });
  });

  it("decides an allowed mutation as a live call outside dry-run mode", () => {
    const guard = createGuard({ ...defaults, allowOperations: ["scale"] });
    expect(guard.decide({ name: "k8s_scale_resource", operation: "scale" })).toEqual({ allowed: true, dryRun: false });
  });

  it("keeps its rules when the caller later changes the arrays it passed", () => {
    const allowOperations: GuardedOperation[] = [];
    const deniedNamespaces = ["kube-system"];
    const guard = createGuard({ ...defaults, allowOperations, deniedNamespaces });
    allowOperations.push("delete");
    deniedNamespaces.length = 0;
    expect(guard.offers({ name: "k8s_delete_resource", operation: "delete" })).toBe(false);
    expect(guard.namespaceAllowed("kube-system")).toBe(false);
  });
});

describe("the guarded catalog", () => {
  it("hands out only guarded access and passes the default cluster and cluster list through", async () => {
    const access = createInMemoryClusterAccess("prod");
    const catalog = {
      defaultCluster: "prod",
      list: async () => [{ name: "prod" }],
      access: async () => access,
    };
    const guarded = createGuard(defaults).guardCatalog(catalog);
    expect(guarded.defaultCluster).toBe("prod");
    expect(await guarded.list()).toEqual([{ name: "prod" }]);
    catalog.defaultCluster = "dev";
    expect(guarded.defaultCluster).toBe("dev");

    const clusterAccess = await guarded.access("prod");
    expect(clusterAccess).not.toBe(access);
    expect(clusterAccess.cluster).toBe("prod");
    await expect(clusterAccess.delete(testResources.pods, "web", "default", { dryRun: false })).rejects.toMatchObject({
      code: "denied_by_policy",
    });
    expect(access.calls).toEqual([]);
  });
});

describe("a tool's own continue tokens", () => {
  const principal = (subject: string): Principal => ({
    subject,
    issuer: "https://issuer.example",
    username: `${subject}@example.com`,
    email: `${subject}@example.com`,
    emailVerified: true,
    groups: [],
    idTokenCustody: undefined,
  });

  it("open for the same tool, user and query, and disclose nothing of the position", () => {
    const tokens = createGuard(defaults).toolContinueTokens("capi_list_clusters", principal("alice"));
    const token = tokens.seal("org-acme/dev", '["org-acme"]');
    expect(Buffer.from(token.replace(/^[^.]*\.v1\./, ""), "base64url").toString("latin1")).not.toContain("org-acme");
    expect(tokens.open(token, '["org-acme"]')).toBe("org-acme/dev");
  });

  it("refuse a token sealed for another user, another tool, another query or another gateway, telling to list again", () => {
    const guard = createGuard(defaults);
    const token = guard.toolContinueTokens("capi_list_clusters", principal("alice")).seal("org-acme/dev", "[]");
    const foreign = [
      () => guard.toolContinueTokens("capi_list_clusters", principal("bob")).open(token, "[]"),
      () => guard.toolContinueTokens("capi_list_clusters").open(token, "[]"),
      () => guard.toolContinueTokens("another_tool", principal("alice")).open(token, "[]"),
      () => guard.toolContinueTokens("capi_list_clusters", principal("alice")).open(token, '["org-acme"]'),
      () => createGuard(defaults).toolContinueTokens("capi_list_clusters", principal("alice")).open(token, "[]"),
    ];
    for (const open of foreign) {
      expect(open).toThrow(GatewayError);
      expect(open).toThrow(/List again from the start, without continue/);
    }
  });
});
