import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { makeDeployment, makePod } from "../testing/fixtures.js";
import { lastAppliedAnnotation, stripForDisplay, toYaml, toYamlDocuments } from "./yaml.js";

describe("toYaml", () => {
  it("drops managedFields and the last-applied annotation but keeps other annotations", () => {
    const yaml = toYaml(makeDeployment("web"));
    expect(yaml).not.toContain("managedFields");
    expect(yaml).not.toContain(lastAppliedAnnotation);
    expect(yaml).toContain("deployment.kubernetes.io/revision");
    expect(parse(yaml).spec.replicas).toBe(3);
  });

  it("removes the annotations key when last-applied was the only one", () => {
    const stripped = stripForDisplay({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "settings", annotations: { [lastAppliedAnnotation]: "{}" } },
    });
    expect(stripped.metadata).toEqual({ name: "settings" });
  });

  it("does not change the object it was given", () => {
    const deployment = makeDeployment("web");
    toYaml(deployment);
    expect(deployment.metadata?.managedFields).toHaveLength(1);
    expect(deployment.metadata?.annotations?.[lastAppliedAnnotation]).toBeDefined();
  });

  it("never folds long strings or uses aliases for repeated values", () => {
    const labels = { app: "web" };
    const yaml = toYaml({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "x", labels },
      data: { long: "word ".repeat(60).trim(), again: labels as unknown as string },
    });
    expect(yaml).not.toMatch(/[&*]a\d/);
    expect(parse(yaml).data.long).toBe("word ".repeat(60).trim());
    expect(yaml.split("\n").some((line) => line.length > 250)).toBe(true);
  });

  it("writes several objects as separate YAML documents", () => {
    const text = toYamlDocuments([makePod({ name: "a" }), makePod({ name: "b" })]);
    expect(parseAllDocuments(text)).toHaveLength(2);
    expect(text).not.toContain("managedFields");
  });
});
