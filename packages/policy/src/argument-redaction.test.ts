import { describe, expect, it } from "vitest";
import { createGuard } from "./guard.js";

const guard = createGuard({
  nonDestructive: true,
  dryRun: false,
  allowOperations: [],
  deniedNamespaces: [],
  // Audit records never hold secret values, even when answers may.
  allowSecretValues: true,
});

describe("redactArguments", () => {
  it("redacts the values of a Secret manifest given as an object and keeps everything else", () => {
    const args = {
      cluster: "prod",
      manifest: { apiVersion: "v1", kind: "Secret", metadata: { name: "db" }, data: { password: "aHVudGVyMg==" } },
    };
    expect(guard.redactArguments("k8s_create_resource", args)).toEqual({
      cluster: "prod",
      manifest: {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "db" },
        data: { password: "<redacted: 7 bytes>" },
      },
    });
    expect(args.manifest.data.password).toBe("aHVudGVyMg==");
  });

  it("parses a JSON manifest string naming a Secret and redacts its values", () => {
    const manifest = JSON.stringify({ kind: "Secret", metadata: { name: "db" }, stringData: { token: "abc" } });
    const redacted = guard.redactArguments("k8s_apply_resource", { manifest });
    expect(JSON.parse(redacted.manifest as string)).toEqual({
      kind: "Secret",
      metadata: { name: "db" },
      stringData: { token: "<redacted: 3 bytes>" },
    });
  });

  it("replaces a YAML manifest naming a Secret as a whole, since it cannot be parsed here", () => {
    const manifest = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  token: abc\n";
    const redacted = guard.redactArguments("k8s_apply_resource", { manifest });
    expect(redacted.manifest).toBe(`<redacted: text naming a Secret, ${manifest.length} bytes>`);
  });

  it("keeps a manifest string of another kind as it is", () => {
    const manifest = "kind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n";
    expect(guard.redactArguments("k8s_apply_resource", { manifest })).toEqual({ manifest });
    expect(guard.redactArguments("k8s_apply_resource", { manifest: "kind: SecretStore\n" })).toEqual({
      manifest: "kind: SecretStore\n",
    });
  });

  it.each(["secret", "secrets", "Secret", "secrets.v1"])(
    "replaces the patch body when the resource is %s",
    (resource) => {
      const patch = { data: { password: "bmV3" } };
      const redacted = guard.redactArguments("k8s_patch_resource", { resource, name: "db", patch, patchType: "merge" });
      expect(redacted).toEqual({
        resource,
        name: "db",
        patch: `<redacted: ${JSON.stringify(patch).length} bytes>`,
        patchType: "merge",
      });
    },
  );

  it("keeps the patch body of other resources", () => {
    const args = { resource: "deployments", name: "api", patch: { spec: { replicas: 3 } } };
    expect(guard.redactArguments("k8s_patch_resource", args)).toEqual(args);
  });

  it("replaces exec's stdin and keeps the command", () => {
    expect(guard.redactArguments("k8s_exec_pod", { command: ["sh", "-c", "cat"], stdin: "password\n" })).toEqual({
      command: ["sh", "-c", "cat"],
      stdin: "<redacted: 9 bytes>",
    });
  });

  it("redacts a Secret nested anywhere in the arguments", () => {
    const redacted = guard.redactArguments("k8s_apply_resource", {
      manifest: {
        kind: "List",
        items: [
          { kind: "ConfigMap", data: { a: "b" } },
          { kind: "Secret", data: { k: "dg==" } },
        ],
      },
    });
    expect(redacted).toEqual({
      manifest: {
        kind: "List",
        items: [
          { kind: "ConfigMap", data: { a: "b" } },
          { kind: "Secret", data: { k: "<redacted: 1 bytes>" } },
        ],
      },
    });
  });
});
