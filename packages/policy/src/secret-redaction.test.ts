import { describe, expect, it } from "vitest";
import { lastAppliedConfigurationAnnotation, redactSecretValues } from "./secret-redaction.js";

describe("redactSecretValues", () => {
  it("sizes data values by their decoded bytes and stringData values by their text", () => {
    const redacted = redactSecretValues({
      kind: "Secret",
      data: { key: Buffer.from("twelve bytes").toString("base64") },
      stringData: { note: "héllo" },
    });
    expect(redacted).toEqual({
      kind: "Secret",
      data: { key: "<redacted: 12 bytes>" },
      stringData: { note: "<redacted: 6 bytes>" },
    });
  });

  it("leaves objects of other kinds alone, including a ConfigMap's data", () => {
    const configMap = { kind: "ConfigMap", data: { mode: "fast" } };
    expect(redactSecretValues(configMap)).toEqual(configMap);
  });

  it("treats an object without a kind as a Secret only when told to", () => {
    expect(redactSecretValues({ data: { a: "YQ==" } })).toEqual({ data: { a: "YQ==" } });
    expect(redactSecretValues({ data: { a: "YQ==" } }, { assumeSecret: true })).toEqual({
      data: { a: "<redacted: 1 bytes>" },
    });
  });

  it("redacts the items of a SecretList and of a mixed List", () => {
    const redacted = redactSecretValues({
      kind: "List",
      items: [
        { kind: "SecretList", items: [{ data: { a: "YQ==" } }] },
        { kind: "Secret", data: { b: "Yg==" } },
      ],
    });
    expect(redacted).toEqual({
      kind: "List",
      items: [
        { kind: "SecretList", items: [{ data: { a: "<redacted: 1 bytes>" } }] },
        { kind: "Secret", data: { b: "<redacted: 1 bytes>" } },
      ],
    });
  });

  it("replaces a data field that is not a map with a marker rather than passing it through", () => {
    expect(redactSecretValues({ kind: "Secret", data: "c2VjcmV0" })).toEqual({ kind: "Secret", data: "<redacted>" });
  });

  it("removes the last-applied annotation at every depth and does not touch its input", () => {
    const input = {
      kind: "Deployment",
      metadata: { annotations: { [lastAppliedConfigurationAnnotation]: "{}", keep: "yes" } },
      spec: { template: { metadata: { annotations: { [lastAppliedConfigurationAnnotation]: "{}" } } } },
    };
    const snapshot = structuredClone(input);
    expect(redactSecretValues(input)).toEqual({
      kind: "Deployment",
      metadata: { annotations: { keep: "yes" } },
      spec: { template: { metadata: { annotations: {} } } },
    });
    expect(input).toEqual(snapshot);
  });
});
