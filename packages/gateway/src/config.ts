// Configuration: one table of options, each settable as a flag, a CAPI_MCP_… environment
// variable, or a key in a YAML/JSON file (--config). Precedence: flag, then environment, then
// file, then default. Errors name the field the way the user wrote it.
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { GatewayError, guardedOperations } from "@capi-mcp/core";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { parseCidr } from "./client-address.js";

type OptionKind = "string" | "boolean" | "number" | "list" | "duration";

interface OptionSpec {
  readonly flag: string;
  readonly kind: OptionKind;
  readonly description: string;
}

/** Every option, keyed by its name in the config file. */
export const optionSpecs = {
  transport: { flag: "transport", kind: "string", description: "stdio or streamable-http (default stdio)" },
  httpAddr: { flag: "http-addr", kind: "string", description: "address for streamable HTTP (default 127.0.0.1:8080)" },
  httpEndpoint: { flag: "http-endpoint", kind: "string", description: "path of the MCP endpoint (default /mcp)" },
  allowedOrigins: {
    flag: "allowed-origins",
    kind: "list",
    description: "browser origins allowed to call the endpoint, comma-separated (default: none)",
  },
  allowedHosts: {
    flag: "allowed-hosts",
    kind: "list",
    description: "Host header values accepted besides the listen address (default: none)",
  },
  maxSessions: {
    flag: "max-sessions",
    kind: "number",
    description: "MCP sessions open at once on streamable HTTP, for everyone together (default 1000)",
  },
  maxSessionsPerUser: {
    flag: "max-sessions-per-user",
    kind: "number",
    description: "MCP sessions one user may hold at once; their oldest idle one goes first (default 100)",
  },
  sessionIdleTimeout: {
    flag: "session-idle-timeout",
    kind: "duration",
    description: "a session with no request and no open stream this long ends (default 30m)",
  },
  sessionDisconnectGrace: {
    flag: "session-disconnect-grace",
    kind: "duration",
    description: "a session whose client dropped its GET stream ends after this without a request (default 30s)",
  },
  portForwardIdleTimeout: {
    flag: "port-forward-idle-timeout",
    kind: "duration",
    description: "port-forwards of a quiet session with no open connection stop after this (default 5m)",
  },
  kubeconfig: {
    flag: "kubeconfig",
    kind: "string",
    description: "kubeconfig file (default $KUBECONFIG, else ~/.kube/config)",
  },
  context: {
    flag: "context",
    kind: "string",
    description: "default kubeconfig context (default: the file's current context)",
  },
  inCluster: {
    flag: "in-cluster",
    kind: "boolean",
    description: "use the pod's service account instead of a kubeconfig",
  },
  nonDestructive: {
    flag: "non-destructive",
    kind: "boolean",
    description: "refuse create, apply, patch, scale, delete, exec, port-forward unless allowed (default true)",
  },
  dryRun: { flag: "dry-run", kind: "boolean", description: "send every mutation as a server-side dry run" },
  allowOperations: {
    flag: "allow-operations",
    kind: "list",
    description: `operations allowed in non-destructive mode: ${guardedOperations.join(", ")}`,
  },
  allowedNamespaces: { flag: "allowed-namespaces", kind: "list", description: "only these namespaces (default: all)" },
  deniedNamespaces: { flag: "denied-namespaces", kind: "list", description: "never these namespaces" },
  allowSecretValues: {
    flag: "allow-secret-values",
    kind: "boolean",
    description: "return Secret values (default false)",
  },
  qpsLimit: { flag: "qps-limit", kind: "number", description: "requests per second per cluster client (default 20)" },
  burstLimit: { flag: "burst-limit", kind: "number", description: "burst per cluster client (default 30)" },
  toolTimeout: {
    flag: "tool-timeout",
    kind: "duration",
    description: "bound on one tool call, e.g. 30s or 2m (default 60s)",
  },
  auditLog: {
    flag: "audit-log",
    kind: "string",
    description: "audit records: a file path, or stderr (default stderr)",
  },
  debug: { flag: "debug", kind: "boolean", description: "debug logging" },
  enableOauth: {
    flag: "enable-oauth",
    kind: "boolean",
    description: "require an OAuth 2.1 login for streamable HTTP; calls act as the logged-in user",
  },
  oauthBaseUrl: {
    flag: "oauth-base-url",
    kind: "string",
    description: "the gateway's public URL; the resource is <base>/mcp",
  },
  oauthProvider: {
    flag: "oauth-provider",
    kind: "string",
    description: "upstream identity provider: dex, google or oidc",
  },
  dexIssuerUrl: { flag: "dex-issuer-url", kind: "string", description: "Dex issuer URL" },
  dexClientId: { flag: "dex-client-id", kind: "string", description: "the gateway's client id at Dex" },
  dexClientSecretFile: {
    flag: "dex-client-secret-file",
    kind: "string",
    description: "file holding the Dex client secret",
  },
  dexConnectorId: { flag: "dex-connector-id", kind: "string", description: "Dex connector to log in with (optional)" },
  dexKubernetesAudience: {
    flag: "dex-kubernetes-audience",
    kind: "string",
    description: "Dex client id the workload API servers trust (cross-client audience)",
  },
  googleClientId: { flag: "google-client-id", kind: "string", description: "the gateway's Google OAuth client id" },
  googleClientSecretFile: {
    flag: "google-client-secret-file",
    kind: "string",
    description: "file holding the Google client secret",
  },
  oidcIssuerUrl: { flag: "oidc-issuer-url", kind: "string", description: "issuer URL of a generic OpenID provider" },
  oidcClientId: { flag: "oidc-client-id", kind: "string", description: "the gateway's client id at that provider" },
  oidcClientSecretFile: {
    flag: "oidc-client-secret-file",
    kind: "string",
    description: "file holding its client secret",
  },
  oidcCaFile: { flag: "oidc-ca-file", kind: "string", description: "CA bundle for a provider with a private CA" },
  oauthScopes: {
    flag: "oauth-scopes",
    kind: "list",
    description: "scopes asked of the provider (default per provider)",
  },
  registrationTokenFile: {
    flag: "registration-token-file",
    kind: "string",
    description: "file holding the token that client registration requires",
  },
  allowPublicRegistration: {
    flag: "allow-public-registration",
    kind: "boolean",
    description: "let any client register without a registration token",
  },
  allowPrivateUseRedirectSchemes: {
    flag: "allow-private-use-redirect-schemes",
    kind: "boolean",
    description: "accept reverse-domain private-use redirect URIs such as com.example.app:/callback (default true)",
  },
  maxRegisteredClients: {
    flag: "max-registered-clients",
    kind: "number",
    description: "most dynamically registered clients kept at once; more registrations get 503 (default 5000)",
  },
  unusedClientLifetime: {
    flag: "unused-client-lifetime",
    kind: "duration",
    description: "how long a registered client that has never completed a sign-in is kept (default 1h)",
  },
  trustedProxies: {
    flag: "trusted-proxies",
    kind: "list",
    description: "CIDRs of reverse proxies whose forwarding header names the client address (default: none)",
  },
  clientAddressHeader: {
    flag: "client-address-header",
    kind: "string",
    description: "header trusted proxies set: x-forwarded-for (default) or forwarded",
  },
  tokenStore: { flag: "token-store", kind: "string", description: "memory (one replica) or redis (several)" },
  redisUrl: { flag: "redis-url", kind: "string", description: "redis:// or rediss:// URL, without a password" },
  redisPasswordFile: { flag: "redis-password-file", kind: "string", description: "file holding the Redis password" },
  tokenEncryptionKeyFile: {
    flag: "token-encryption-key-file",
    kind: "string",
    description: "32-byte key (raw, hex or base64) encrypting stored tokens (required with redis)",
  },
  usernameClaim: {
    flag: "username-claim",
    kind: "string",
    description: "ID token claim that is the username (default email)",
  },
  groupsClaim: {
    flag: "groups-claim",
    kind: "string",
    description: "ID token claim holding the groups (default groups)",
  },
  groupMappingsFile: {
    flag: "group-mappings-file",
    kind: "string",
    description: "JSON file mapping provider groups to Kubernetes groups",
  },
  enableCapi: {
    flag: "enable-capi",
    kind: "boolean",
    description: "serve the workload clusters of the Cluster API management cluster the kubeconfig points at",
  },
  workloadAuth: {
    flag: "workload-auth",
    kind: "string",
    description: "with --enable-capi: impersonation (default) or sso-passthrough on workload clusters",
  },
  capiNamespaces: {
    flag: "capi-namespaces",
    kind: "list",
    description: "only Cluster objects in these namespaces (default: all)",
  },
  capiClusterSelector: {
    flag: "capi-cluster-selector",
    kind: "string",
    description: "only Cluster objects matching this label selector",
  },
  caSecretSuffix: {
    flag: "ca-secret-suffix",
    kind: "string",
    description: "SSO passthrough: CA secret <cluster><suffix> (default -ca)",
  },
  caConfigmapSuffix: {
    flag: "ca-configmap-suffix",
    kind: "string",
    description: "SSO passthrough: read the CA from ConfigMap <cluster><suffix> (key ca.crt) instead",
  },
  clientCacheTtl: {
    flag: "client-cache-ttl",
    kind: "duration",
    description: "how long a workload client is kept (default 10m)",
  },
  clientCacheMaxEntries: {
    flag: "client-cache-max-entries",
    kind: "number",
    description: "most workload clients kept (default 1000)",
  },
  workloadQpsLimit: {
    flag: "workload-qps-limit",
    kind: "number",
    description: "requests per second per workload client (default 20)",
  },
  workloadBurstLimit: {
    flag: "workload-burst-limit",
    kind: "number",
    description: "burst per workload client (default 30)",
  },
  workloadTimeout: {
    flag: "workload-timeout",
    kind: "duration",
    description: "bound on one request to a workload cluster (default 30s)",
  },
  fanoutConcurrency: {
    flag: "fanout-concurrency",
    kind: "number",
    description: "clusters queried at once by a fleet-wide list (default 8)",
  },
  kubeAuth: {
    flag: "kube-auth",
    kind: "string",
    description: "with OAuth: impersonation (gateway credentials + Impersonate headers) or sso-passthrough",
  },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof optionSpecs;

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

export const configSchema = z
  .object({
    transport: z.enum(["stdio", "streamable-http"]).default("stdio"),
    httpAddr: hostPort.default("127.0.0.1:8080"),
    httpEndpoint: z
      .string()
      .regex(/^\/[\w\-/.]*$/, "expected a path starting with /")
      .default("/mcp"),
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
    auditLog: z.string().min(1).default("stderr"),
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
    caSecretSuffix: z.string().min(1).default("-ca"),
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

export type GatewayConfig = z.output<typeof configSchema>;

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
  if (parsed.success) return parsed.data;
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
