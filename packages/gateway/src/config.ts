// Configuration: the options of option-specs.ts, each settable as a flag, a CAPI_MCP_… environment
// variable, or a key in a YAML/JSON file (--config). Precedence: flag, then environment, then
// file, then default. Errors name the field the way the user wrote it.
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { GatewayError, guardedOperations } from "@capi-mcp/core";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { parseCidr } from "./client-address.js";
import { type InstrumentationConfig, loadInstrumentationConfig } from "./instrumentation-config.js";
import { type OptionName, type OptionSpec, optionSpecs } from "./option-specs.js";

/** Headers that carry credentials: never copied into an audit record. */
const credentialHeaders = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "x-auth-token",
  "x-csrf-token",
]);

const auditStreams = new Set(["stdout", "stderr", "none"]);

export interface AuditDestinations {
  readonly stream: "stdout" | "stderr" | "none";
  readonly file?: { readonly path: string; readonly maxBytes: number; readonly maxFiles: number };
}

/**
 * Where audit records go: `--audit-log` picks a stream (stdout by default on streamable HTTP,
 * stderr on stdio, whose stdout is the protocol) and `--audit-log-file` adds a file; an
 * `--audit-log` that is a path (what it took before the file option existed) is that file alone.
 */
export function auditDestinations(config: GatewayConfig): AuditDestinations {
  const fallbackStream = config.transport === "stdio" ? "stderr" : "stdout";
  const given = config.auditLog;
  const isStream = given === undefined || auditStreams.has(given);
  const stream = (isStream ? (given ?? fallbackStream) : "none") as AuditDestinations["stream"];
  const path = isStream ? config.auditLogFile : given;
  return {
    stream,
    ...(path === undefined
      ? {}
      : {
          file: {
            path,
            maxBytes: Math.round(config.auditLogMaxSize * 1024 * 1024),
            maxFiles: config.auditLogMaxBackups,
          },
        }),
  };
}

const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function parseDuration(text: string): number | undefined {
  const match = durationPattern.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * (durationUnits[match[2] ?? "s"] ?? 1000);
}

const hostPort = z.string().refine((value) => /^(\[[0-9a-fA-F:]+\]|[\w.-]+):\d{1,5}$/.test(value), {
  message: "expected host:port, for example 127.0.0.1:8080",
});

/** Like hostPort, but `:9090` (every interface) too, as the chart writes the metrics address. */
const listenAddress = z.string().refine((value) => /^(\[[0-9a-fA-F:]+\]|[\w.-]+)?:\d{1,5}$/.test(value), {
  message: "expected host:port or :port, for example 127.0.0.1:9090 or :9090",
});

export const configSchema = z
  .object({
    transport: z.enum(["stdio", "streamable-http"]).default("stdio"),
    httpAddr: hostPort.default("127.0.0.1:8080"),
    httpEndpoint: z
      .string()
      .regex(/^\/[\w\-/.]*$/, "expected a path starting with /")
      .default("/mcp"),
    metricsAddr: listenAddress.optional(),
    allowedOrigins: z.array(z.url({ message: "expected origins such as https://app.example.com" })).default([]),
    allowedHosts: z.array(z.string().min(1)).default([]),
    maxSessions: z.number().int().min(1).max(1_000_000).default(1000),
    maxSessionsPerUser: z.number().int().min(1).max(1_000_000).default(100),
    sessionIdleTimeout: z
      .number()
      .int()
      .min(1000)
      .max(86_400_000)
      .default(30 * 60_000),
    sessionDisconnectGrace: z.number().int().min(100).max(3_600_000).default(30_000),
    portForwardIdleTimeout: z
      .number()
      .int()
      .min(1000)
      .max(86_400_000)
      .default(5 * 60_000),
    kubeconfig: z.string().min(1).optional(),
    context: z.string().min(1).optional(),
    inCluster: z.boolean().default(false),
    nonDestructive: z.boolean().default(true),
    dryRun: z.boolean().default(false),
    allowOperations: z.array(z.enum(guardedOperations)).default([]),
    allowedNamespaces: z.array(z.string().min(1)).optional(),
    deniedNamespaces: z.array(z.string().min(1)).default([]),
    allowSecretValues: z.boolean().default(false),
    qpsLimit: z.number().positive().max(10_000).default(20),
    burstLimit: z.number().int().positive().max(100_000).default(30),
    toolTimeoutMilliseconds: z.number().int().min(1000).max(3_600_000).default(60_000),
    auditLog: z.string().min(1).optional(),
    auditLogFile: z.string().min(1).optional(),
    auditLogMaxSize: z.number().min(0).max(1_048_576).default(100),
    auditLogMaxBackups: z.number().int().min(0).max(1000).default(5),
    auditRequestHeaders: z
      .array(
        z
          .string()
          .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "expected HTTP header names such as x-model")
          .transform((name) => name.toLowerCase())
          .refine((name) => !credentialHeaders.has(name), {
            message: "must not name a header that carries credentials (Authorization, Cookie, …)",
          }),
      )
      .max(32)
      .default([]),
    debug: z.boolean().default(false),
    enableOauth: z.boolean().default(false),
    oauthBaseUrl: z.url({ message: "expected the gateway's public URL, e.g. https://mcp.example.com" }).optional(),
    oauthProvider: z.enum(["dex", "google", "oidc"]).optional(),
    dexIssuerUrl: z.url().optional(),
    dexClientId: z.string().min(1).optional(),
    dexClientSecretFile: z.string().min(1).optional(),
    dexConnectorId: z.string().min(1).optional(),
    dexKubernetesAudience: z.string().min(1).optional(),
    googleClientId: z.string().min(1).optional(),
    googleClientSecretFile: z.string().min(1).optional(),
    oidcIssuerUrl: z.url().optional(),
    oidcClientId: z.string().min(1).optional(),
    oidcClientSecretFile: z.string().min(1).optional(),
    oidcCaFile: z.string().min(1).optional(),
    oauthScopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, "expected scope tokens")).optional(),
    registrationTokenFile: z.string().min(1).optional(),
    allowPublicRegistration: z.boolean().default(false),
    allowPrivateUseRedirectSchemes: z.boolean().default(true),
    maxRegisteredClients: z.number().int().min(1).max(1_000_000).default(5000),
    unusedClientLifetime: z
      .number()
      .int()
      .min(60_000)
      .max(30 * 86_400_000)
      .default(3_600_000),
    trustedProxies: z
      .array(
        z.string().refine((value) => parseCidr(value) !== undefined, {
          message: "expected CIDRs such as 10.0.0.0/8 or fd00::/8",
        }),
      )
      .default([]),
    clientAddressHeader: z.enum(["x-forwarded-for", "forwarded"]).default("x-forwarded-for"),
    tokenStore: z.enum(["memory", "redis"]).default("memory"),
    redisUrl: z
      .string()
      .regex(/^rediss?:\/\//, "expected a redis:// or rediss:// URL")
      .refine((url) => !/^rediss?:\/\/[^@/]*:[^@/]*@/.test(url), {
        message: "must not carry a password: put it in a file and pass --redis-password-file",
      })
      .optional(),
    redisPasswordFile: z.string().min(1).optional(),
    tokenEncryptionKeyFile: z.string().min(1).optional(),
    usernameClaim: z.string().min(1).default("email"),
    groupsClaim: z.string().min(1).default("groups"),
    groupMappingsFile: z.string().min(1).optional(),
    kubeAuth: z.enum(["impersonation", "sso-passthrough"]).default("impersonation"),
    enableCapi: z.boolean().default(false),
    workloadAuth: z.enum(["impersonation", "sso-passthrough"]).default("impersonation"),
    capiNamespaces: z.array(z.string().min(1)).optional(),
    capiClusterSelector: z.string().min(1).optional(),
    caSecretSuffix: z.string().min(1).optional(),
    caConfigmapSuffix: z.string().min(1).optional(),
    clientCacheTtl: z.number().int().min(1000).default(600_000),
    clientCacheMaxEntries: z.number().int().positive().max(1_000_000).default(1000),
    workloadQpsLimit: z.number().positive().max(10_000).default(20),
    workloadBurstLimit: z.number().int().positive().max(100_000).default(30),
    workloadTimeout: z.number().int().min(100).max(600_000).default(30_000),
    fanoutConcurrency: z.number().int().min(1).max(256).default(8),
  })
  .strict()
  .superRefine((config, context) => {
    const require = (condition: boolean, path: string, message: string) => {
      if (!condition) context.addIssue({ code: "custom", path: [path], message });
    };
    require(!(config.inCluster && config.kubeconfig), "inCluster", "--in-cluster and --kubeconfig exclude each other");
    const auditStream =
      config.auditLog === undefined || auditStreams.has(config.auditLog) ? config.auditLog : undefined;
    require(!(
      config.auditLog !== undefined &&
      auditStream === undefined &&
      config.auditLogFile !== undefined
    ), "auditLog", "names a file and so does --audit-log-file: give the file once, with --audit-log-file");
    require(!(
      config.transport === "stdio" && auditStream === "stdout"
    ), "auditLog", "stdout carries the stdio transport's protocol: use stderr, none or --audit-log-file");
    require(!(
      auditStream === "none" && config.auditLogFile === undefined
    ), "auditLog", "none leaves no audit trail: add --audit-log-file, or choose stdout or stderr");
    require(!(
      config.caSecretSuffix !== undefined && config.caConfigmapSuffix !== undefined
    ), "caSecretSuffix", "--ca-secret-suffix and --ca-configmap-suffix exclude each other: SSO passthrough reads the CA from one place");
    const host = config.httpAddr.slice(0, config.httpAddr.lastIndexOf(":")).replace(/^\[|\]$/g, "");
    const loopback = host === "127.0.0.1" || host === "localhost" || host === "::1";
    if (config.transport === "streamable-http" && !config.enableOauth) {
      require(loopback, "httpAddr", "serving MCP beyond loopback requires --enable-oauth: without a login, anyone who reaches the port acts with the gateway's credentials");
    }
    if (config.enableCapi && config.transport === "streamable-http") {
      require(config.enableOauth, "enableCapi", "Cluster API mode over streamable HTTP requires --enable-oauth: every call to a workload cluster must act as a logged-in user");
    }
    if (!config.enableOauth) return;
    require(config.transport ===
      "streamable-http", "enableOauth", "OAuth protects the streamable HTTP transport: set --transport streamable-http");
    require(config.oauthBaseUrl !== undefined, "oauthBaseUrl", "is required with --enable-oauth");
    require(config.oauthProvider !==
      undefined, "oauthProvider", "is required with --enable-oauth (dex, google or oidc)");
    const needed: Record<string, readonly (keyof typeof config)[]> = {
      dex: ["dexIssuerUrl", "dexClientId", "dexClientSecretFile"],
      google: ["googleClientId", "googleClientSecretFile"],
      oidc: ["oidcIssuerUrl", "oidcClientId", "oidcClientSecretFile"],
    };
    for (const key of needed[config.oauthProvider ?? ""] ?? []) {
      require(config[key] !== undefined, key, `is required with --oauth-provider ${config.oauthProvider}`);
    }
    if (config.tokenStore === "redis") {
      require(config.redisUrl !== undefined, "redisUrl", "is required with --token-store redis");
      require(config.tokenEncryptionKeyFile !==
        undefined, "tokenEncryptionKeyFile", "is required with --token-store redis: tokens at rest in Redis must be encrypted");
    }
  });

/** The options, plus the instrumentation environment (INSTRUMENTATION_ENABLED, OTEL_*, …). */
export type GatewayConfig = z.output<typeof configSchema> & { readonly instrumentation: InstrumentationConfig };

type Source = "flag" | "environment" | "file";

function environmentName(name: OptionName): string {
  return `CAPI_MCP_${optionSpecs[name].flag.toUpperCase().replaceAll("-", "_")}`;
}

function describeField(name: string, source: Source, configFile?: string): string {
  if (!(name in optionSpecs)) return source === "file" ? `"${name}" in ${configFile}` : name;
  const option = name as OptionName;
  switch (source) {
    case "flag":
      return `--${optionSpecs[option].flag}`;
    case "environment":
      return environmentName(option);
    case "file":
      return `"${option}" in ${configFile}`;
  }
}

function coerce(name: OptionName, raw: unknown, source: Source, configFile?: string): unknown {
  const spec: OptionSpec = optionSpecs[name];
  const field = describeField(name, source, configFile);
  const fail = (expected: string): never => {
    throw new GatewayError("invalid_input", `${field}: expected ${expected}, got ${JSON.stringify(raw)}.`);
  };
  if (source === "file" && spec.kind !== "duration" && typeof raw !== "string") return raw;
  const text = String(raw);
  switch (spec.kind) {
    case "string":
      return text;
    case "boolean":
      if (typeof raw === "boolean") return raw;
      if (["true", "1", "yes", ""].includes(text.toLowerCase())) return true;
      if (["false", "0", "no"].includes(text.toLowerCase())) return false;
      return fail("true or false");
    case "number": {
      const value = Number(text);
      return Number.isFinite(value) && text.trim() !== "" ? value : fail("a number");
    }
    case "list":
      return text
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item.length > 0);
    case "duration": {
      if (typeof raw === "number") return raw * 1000;
      return parseDuration(text) ?? fail("a duration such as 500ms, 30s, 2m or 1h");
    }
  }
}

export interface ConfigSources {
  /** Parsed flags: option name → raw value (string, or true for a bare boolean flag). */
  readonly flags: Partial<Record<OptionName, string | boolean>>;
  readonly environment: Readonly<Record<string, string | undefined>>;
  readonly configFile?: string;
  readonly homeDirectory?: string;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new GatewayError("invalid_input", `--config: cannot read ${file}.`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : "unreadable";
    throw new GatewayError("invalid_input", `--config: ${file} is not valid YAML or JSON (${reason}).`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new GatewayError("invalid_input", `--config: ${file} must hold a mapping of option names to values.`);
  }
  return parsed as Record<string, unknown>;
}

/** Builds and validates the configuration from flags, environment and an optional file. */
export function loadConfig(sources: ConfigSources): GatewayConfig {
  const merged: Record<string, unknown> = {};
  const origin: Record<string, Source> = {};
  if (sources.configFile) {
    for (const [key, value] of Object.entries(readConfigFile(sources.configFile))) {
      merged[key] = key in optionSpecs ? coerce(key as OptionName, value, "file", sources.configFile) : value;
      origin[key] = "file";
    }
  }
  for (const name of Object.keys(optionSpecs) as OptionName[]) {
    const fromEnvironment = sources.environment[environmentName(name)];
    if (fromEnvironment !== undefined) {
      merged[name] = coerce(name, fromEnvironment, "environment");
      origin[name] = "environment";
    }
    const fromFlag = sources.flags[name];
    if (fromFlag !== undefined) {
      merged[name] = coerce(name, fromFlag, "flag");
      origin[name] = "flag";
    }
  }
  if (merged.toolTimeout !== undefined) {
    merged.toolTimeoutMilliseconds = merged.toolTimeout;
    origin.toolTimeoutMilliseconds = origin.toolTimeout ?? "flag";
    delete merged.toolTimeout;
  }
  if (merged.kubeconfig === undefined && !merged.inCluster) {
    const fromKubeconfigVariable = sources.environment.KUBECONFIG?.split(path.delimiter).find(
      (entry) => entry.length > 0,
    );
    merged.kubeconfig = fromKubeconfigVariable ?? path.join(sources.homeDirectory ?? os.homedir(), ".kube", "config");
  }
  const parsed = configSchema.safeParse(merged);
  if (parsed.success) return { ...parsed.data, instrumentation: loadInstrumentationConfig(sources.environment) };
  const messages = parsed.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? "");
    const name = key === "toolTimeoutMilliseconds" ? "toolTimeout" : key;
    if (issue.code === "unrecognized_keys") {
      return `${sources.configFile ?? "config"}: unknown option ${issue.keys.map((unknown) => `"${unknown}"`).join(", ")}`;
    }
    return `${describeField(name, origin[key] ?? "flag", sources.configFile)}: ${issue.message}`;
  });
  throw new GatewayError("invalid_input", messages.join("; "));
}

export function helpText(): string {
  const lines = Object.entries(optionSpecs).map(([name, spec]) => {
    const value = spec.kind === "boolean" ? "" : spec.kind === "list" ? " <a,b>" : ` <${spec.kind}>`;
    return `${`  --${spec.flag}${value}`.padEnd(34)}${spec.description}  [${environmentName(name as OptionName)}]`;
  });
  return [
    "capi-mcp: an MCP gateway to Kubernetes clusters, acting as the human who asked.",
    "",
    "Usage:",
    "  capi-mcp serve [options]     run the MCP server",
    "  capi-mcp version             print the version",
    "  capi-mcp --help              this text",
    "",
    "Options (each also an environment variable, and a key in the --config file):",
    `${"  --config <file>".padEnd(34)}YAML or JSON file with option names as keys (e.g. qpsLimit: 10)`,
    ...lines,
    "",
    "Boolean options take --name, --name=true or --name=false (e.g. --non-destructive=false).",
  ].join("\n");
}
