import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { GatewayError } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import { helpText, loadConfig } from "./config.js";

function failure(run: () => unknown): GatewayError {
  try {
    run();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error("expected a GatewayError");
}

function configFile(text: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "capi-mcp-config-")), "config.yaml");
  writeFileSync(file, text);
  return file;
}

const home = "/home/tester";

describe("gateway configuration", () => {
  it("defaults to a safe stdio server on the user's kubeconfig", () => {
    const config = loadConfig({ flags: {}, environment: {}, homeDirectory: home });
    expect(config).toMatchObject({
      transport: "stdio",
      httpAddr: "127.0.0.1:8080",
      httpEndpoint: "/mcp",
      nonDestructive: true,
      dryRun: false,
      allowSecretValues: false,
      allowOperations: [],
      qpsLimit: 20,
      burstLimit: 30,
      toolTimeoutMilliseconds: 60_000,
      auditLog: "stderr",
      kubeconfig: "/home/tester/.kube/config",
    });
  });

  it("takes the first KUBECONFIG entry when no --kubeconfig is given", () => {
    expect(
      loadConfig({ flags: {}, environment: { KUBECONFIG: "/a/one:/a/two" }, homeDirectory: home }).kubeconfig,
    ).toBe("/a/one");
  });

  it("lets flags override environment variables, which override the config file", () => {
    const file = configFile("qpsLimit: 5\nburstLimit: 7\ndeniedNamespaces: [kube-system]\ntoolTimeout: 10s\n");
    const config = loadConfig({
      flags: { qpsLimit: "9" },
      environment: { CAPI_MCP_QPS_LIMIT: "8", CAPI_MCP_BURST_LIMIT: "11" },
      configFile: file,
      homeDirectory: home,
    });
    expect(config.qpsLimit).toBe(9);
    expect(config.burstLimit).toBe(11);
    expect(config.deniedNamespaces).toEqual(["kube-system"]);
    expect(config.toolTimeoutMilliseconds).toBe(10_000);
  });

  it("parses lists, booleans and durations from flags", () => {
    const config = loadConfig({
      flags: { allowOperations: "delete, scale", nonDestructive: "false", dryRun: true, toolTimeout: "2m" },
      environment: {},
      homeDirectory: home,
    });
    expect(config.allowOperations).toEqual(["delete", "scale"]);
    expect(config.nonDestructive).toBe(false);
    expect(config.dryRun).toBe(true);
    expect(config.toolTimeoutMilliseconds).toBe(120_000);
  });

  it.each([
    [{ flags: { qpsLimit: "fast" } }, /^--qps-limit: expected a number, got "fast"\.$/],
    [{ flags: { transport: "carrier-pigeon" } }, /^--transport: /],
    [{ flags: { allowOperations: "delete,format-disk" } }, /^--allow-operations: /],
    [{ environment: { CAPI_MCP_DRY_RUN: "maybe" } }, /^CAPI_MCP_DRY_RUN: expected true or false/],
    [{ flags: { toolTimeout: "soon" } }, /^--tool-timeout: expected a duration/],
    [{ flags: { httpAddr: "8080" } }, /^--http-addr: expected host:port/],
    [
      { flags: { inCluster: true, kubeconfig: "/x" } },
      /^--in-cluster: --in-cluster and --kubeconfig exclude each other/,
    ],
  ])("names the bad field: %j", (sources, message) => {
    const error = failure(() => loadConfig({ flags: {}, environment: {}, homeDirectory: home, ...sources }));
    expect(error.code).toBe("invalid_input");
    expect(error.message).toMatch(message);
  });

  it("names a bad or unknown key in the config file", () => {
    const bad = failure(() => loadConfig({ flags: {}, environment: {}, configFile: configFile("qpsLimit: lots\n") }));
    expect(bad.message).toMatch(/^"qpsLimit" in .*config\.yaml: expected a number/);
    const unknown = failure(() => loadConfig({ flags: {}, environment: {}, configFile: configFile("qpsLimt: 5\n") }));
    expect(unknown.message).toMatch(/unknown option "qpsLimt"/);
    const broken = failure(() => loadConfig({ flags: {}, environment: {}, configFile: configFile("a: [\n") }));
    expect(broken.message).toMatch(/is not valid YAML or JSON/);
  });

  it("documents every option with its environment variable in --help", () => {
    const text = helpText();
    for (const flag of [
      "--transport",
      "--kubeconfig",
      "--non-destructive",
      "--allow-operations",
      "--audit-log",
      "--tool-timeout",
    ]) {
      expect(text).toContain(flag);
    }
    expect(text).toContain("CAPI_MCP_ALLOW_SECRET_VALUES");
  });
});
