import { describe, expect, it } from "vitest";
import { matchesLabels, parseLabelSelector } from "./label-selector.js";

const prodEu = { env: "prod", region: "eu", "cluster.x-k8s.io/cluster-name": "prod" };

function matches(selector: string, labels: Record<string, string> = prodEu): boolean {
  return matchesLabels(parseLabelSelector(selector), labels);
}

describe("parseLabelSelector", () => {
  it("reads every kind of requirement kubectl -l takes", () => {
    expect(
      parseLabelSelector("env=prod, tier==api,zone!=a,region in (eu, us),env notin (dev),owner,!deprecated")
        .requirements,
    ).toEqual([
      { key: "env", operator: "equals", value: "prod" },
      { key: "tier", operator: "equals", value: "api" },
      { key: "zone", operator: "notEquals", value: "a" },
      { key: "region", operator: "in", values: ["eu", "us"] },
      { key: "env", operator: "notIn", values: ["dev"] },
      { key: "owner", operator: "exists" },
      { key: "deprecated", operator: "notExists" },
    ]);
  });

  it("accepts prefixed keys and an empty selector that selects everything", () => {
    expect(matches("cluster.x-k8s.io/cluster-name=prod")).toBe(true);
    expect(parseLabelSelector("  ").requirements).toEqual([]);
    expect(matches("", {})).toBe(true);
  });

  it.each([
    ["env=prod,", "empty term"],
    ["env in (a,b", "parentheses"],
    ["env in ()", "non-empty"],
    ["env in (a,,b)", "non-empty"],
    ["env=pr od", "not a requirement"],
    ["-env=prod", 'the key "-env"'],
    ["Example.COM/env=prod", "key prefix"],
    [`env=${"x".repeat(64)}`, "the value"],
    ["env > 3", "not a requirement"],
  ])("refuses %s as invalid input, saying what is wrong", (selector, problem) => {
    let thrown: unknown;
    try {
      parseLabelSelector(selector);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: "invalid_input" });
    expect((thrown as Error).message).toContain(problem);
    expect((thrown as Error).message).toContain("Examples: env=prod");
  });
});

describe("matchesLabels", () => {
  it("ANDs the requirements", () => {
    expect(matches("env=prod,region=eu")).toBe(true);
    expect(matches("env=prod,region=us")).toBe(false);
  });

  it("lets != and notin hold for a missing label, as Kubernetes does", () => {
    expect(matches("tier!=api")).toBe(true);
    expect(matches("tier notin (api)")).toBe(true);
    expect(matches("env!=prod")).toBe(false);
    expect(matches("env notin (prod,dev)")).toBe(false);
  });

  it("needs the label for in, and checks presence and absence", () => {
    expect(matches("region in (us,eu)")).toBe(true);
    expect(matches("tier in (api)")).toBe(false);
    expect(matches("env")).toBe(true);
    expect(matches("!env")).toBe(false);
    expect(matches("!tier")).toBe(true);
  });

  it("does not treat inherited object properties as labels", () => {
    expect(matches("constructor", {})).toBe(false);
    expect(matches("!toString", {})).toBe(true);
  });
});
