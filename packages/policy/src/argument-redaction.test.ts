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

  it("records no manifest text at all: a manifest still text when redacted was not parsed", () => {
    for (const manifest of [
      JSON.stringify({ kind: "Secret", metadata: { name: "db" }, stringData: { token: "abc" } }),
      "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  token: abc\n",
      "kind: ConfigMap\ndata:\n  mode: fast\n",
    ]) {
      const redacted = guard.redactArguments("k8s_apply_resource", { manifest });
      expect(redacted.manifest).toBe(
        `<not recorded: manifest text that was not parsed, ${Buffer.byteLength(manifest)} bytes>`,
      );
    }
  });

  it.each(["Secret", "secret", "SECRET", "sEcReT", "secrets", " Secret "])(
    "treats kind %j as a Secret, keeping only keys and sizes",
    (kind) => {
      const redacted = guard.redactArguments("k8s_create_resource", {
        manifest: {
          apiVersion: "v1",
          kind,
          metadata: { name: "db" },
          stringData: { token: "abc" },
          data: { k: "dg==" },
        },
      });
      expect(redacted.manifest).toEqual({
        apiVersion: "v1",
        kind,
        metadata: { name: "db" },
        stringData: { token: "<redacted: 3 bytes>" },
        data: { k: "<redacted: 1 bytes>" },
      });
    },
  );

  it("replaces every field of a Secret that could hold a value, not only data and stringData", () => {
    const redacted = guard.redactArguments("k8s_apply_resource", {
      manifest: {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "db" },
        type: "Opaque",
        "<<": { stringData: { token: "abc" } },
        strngData: { token: "abc" },
      },
    });
    expect(redacted.manifest).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "db" },
      type: "Opaque",
      "<<": `<redacted: ${JSON.stringify({ stringData: { token: "abc" } }).length} bytes>`,
      strngData: `<redacted: ${JSON.stringify({ token: "abc" }).length} bytes>`,
    });
  });

  it.each(["secret", "secrets", "Secret", "SECRETS", "secrets.v1"])(
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
