import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { GatewayError } from "@capi-mcp/core";
import { afterAll, describe, expect, it } from "vitest";
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

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function configFile(text: string): string {
  const directory = mkdtempSync(path.join(os.tmpdir(), "capi-mcp-config-"));
  directories.push(directory);
  const file = path.join(directory, "config.yaml");
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
      auditLogMaxSize: 100,
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

  describe("with OAuth", () => {
    const oidc = {
      transport: "streamable-http",
      enableOauth: true,
      oauthBaseUrl: "https://mcp.example.com",
      oauthProvider: "oidc",
      oidcIssuerUrl: "https://idp.example.com",
      oidcClientId: "capi-mcp",
      oidcClientSecretFile: "/etc/capi-mcp/client-secret",
    } as const;

    it("accepts a complete generic OIDC setup with safe defaults", () => {
      const config = loadConfig({ flags: { ...oidc, enableOauth: true }, environment: {}, homeDirectory: home });
      expect(config).toMatchObject({
        enableOauth: true,
        oauthProvider: "oidc",
        tokenStore: "memory",
        usernameClaim: "email",
        groupsClaim: "groups",
        kubeAuth: "impersonation",
        allowPublicRegistration: false,
      });
    });

    it.each([
      [{ ...oidc, transport: "stdio" }, /^--enable-oauth: OAuth protects the streamable HTTP transport/],
      [{ ...oidc, oauthBaseUrl: undefined }, /^--oauth-base-url: is required with --enable-oauth/],
      [
        { ...oidc, oidcClientSecretFile: undefined },
        /^--oidc-client-secret-file: is required with --oauth-provider oidc/,
      ],
      [{ ...oidc, oauthProvider: "dex" }, /^--dex-issuer-url: is required with --oauth-provider dex/],
      [
        { ...oidc, tokenStore: "redis", redisUrl: "redis://127.0.0.1:6379" },
        /^--token-encryption-key-file: is required with --token-store redis/,
      ],
      [{ ...oidc, tokenStore: "redis" }, /^--redis-url: is required with --token-store redis/],
      [{ ...oidc, oauthProvider: "okta" }, /^--oauth-provider: /],
    ])("refuses an incomplete or inconsistent setup: %j", (flags, message) => {
      const cleaned = Object.fromEntries(Object.entries(flags).filter(([, value]) => value !== undefined));
      expect(() => loadConfig({ flags: cleaned, environment: {}, homeDirectory: home })).toThrow(message);
    });

    it("refuses a Redis password in the URL, wherever it is given, and says where it belongs", () => {
      expect(() =>
        loadConfig({
          flags: { ...oidc, enableOauth: true, tokenStore: "redis", tokenEncryptionKeyFile: "/k" },
          environment: { CAPI_MCP_REDIS_URL: "redis://default:hunter2@127.0.0.1:6379" },
          homeDirectory: home,
        }),
      ).toThrow(/^CAPI_MCP_REDIS_URL: must not carry a password: put it in a file and pass --redis-password-file$/);
    });
  });

  it("refuses to serve MCP beyond loopback without OAuth", () => {
    expect(() =>
      loadConfig({
        flags: { transport: "streamable-http", httpAddr: "0.0.0.0:8080" },
        environment: {},
        homeDirectory: home,
      }),
    ).toThrow(/^--http-addr: serving MCP beyond loopback requires --enable-oauth/);
    expect(
      loadConfig({
        flags: { transport: "streamable-http", httpAddr: "127.0.0.1:8080" },
        environment: {},
        homeDirectory: home,
      }).transport,
    ).toBe("streamable-http");
  });

  describe("with Cluster API federation", () => {
    it("defaults to impersonation with bounded workload clients", () => {
      const config = loadConfig({ flags: { enableCapi: true }, environment: {}, homeDirectory: home });
      expect(config).toMatchObject({
        enableCapi: true,
        workloadAuth: "impersonation",
        clientCacheTtl: 600_000,
        clientCacheMaxEntries: 1000,
        workloadQpsLimit: 20,
        workloadBurstLimit: 30,
        workloadTimeout: 30_000,
        fanoutConcurrency: 8,
      });
    });

    it("reads no CA Secret unless --ca-secret-suffix is given, and refuses both CA sources at once", () => {
      const plain = loadConfig({
        flags: { enableCapi: true, workloadAuth: "sso-passthrough" },
        environment: {},
        homeDirectory: home,
      });
      expect(plain.caSecretSuffix).toBeUndefined();
      expect(plain.caConfigmapSuffix).toBeUndefined();
      expect(() =>
        loadConfig({
          flags: {
            enableCapi: true,
            workloadAuth: "sso-passthrough",
            caSecretSuffix: "-ca",
            caConfigmapSuffix: "-ca-public",
          },
          environment: {},
          homeDirectory: home,
        }),
      ).toThrow(/--ca-secret-suffix and --ca-configmap-suffix exclude each other/);
    });

    it("refuses Cluster API mode over streamable HTTP without OAuth, and says why", () => {
      expect(() =>
        loadConfig({ flags: { enableCapi: true, transport: "streamable-http" }, environment: {}, homeDirectory: home }),
      ).toThrow(
        /^--enable-capi: Cluster API mode over streamable HTTP requires --enable-oauth: every call to a workload cluster must act as a logged-in user/,
      );
    });

    it("reads durations and sizes for the client pool", () => {
      const config = loadConfig({
        flags: {
          enableCapi: true,
          clientCacheTtl: "2m",
          workloadTimeout: "5s",
          clientCacheMaxEntries: "50",
          workloadAuth: "sso-passthrough",
        },
        environment: {},
        homeDirectory: home,
      });
      expect(config).toMatchObject({
        clientCacheTtl: 120_000,
        workloadTimeout: 5000,
        clientCacheMaxEntries: 50,
        workloadAuth: "sso-passthrough",
      });
    });
  });
});
