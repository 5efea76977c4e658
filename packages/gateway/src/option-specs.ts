// The table of every option the gateway takes: its flag (and so its CAPI_MCP_… environment
// variable), its kind and its help line. config.ts validates and loads them; arguments.ts parses
// the command line against this table; the docs-coverage test checks docs/configuration.md names
// every entry.

import { guardedOperations } from "@capi-mcp/core";

export type OptionKind = "string" | "boolean" | "number" | "list" | "duration";

export interface OptionSpec {
  readonly flag: string;
  readonly kind: OptionKind;
  readonly description: string;
}

/** Every option, keyed by its name in the config file. */
export const optionSpecs = {
  transport: { flag: "transport", kind: "string", description: "stdio or streamable-http (default stdio)" },
  httpAddr: { flag: "http-addr", kind: "string", description: "address for streamable HTTP (default 127.0.0.1:8080)" },
  httpEndpoint: { flag: "http-endpoint", kind: "string", description: "path of the MCP endpoint (default /mcp)" },
  metricsAddr: {
    flag: "metrics-addr",
    kind: "string",
    description:
      "address of the separate /metrics listener; :9090 is every interface (default 127.0.0.1:9090 on streamable HTTP; on stdio only when set)",
  },
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
    description:
      "audit records as JSON lines to stdout, stderr or none (default stdout on streamable HTTP, stderr on stdio); a path is read as --audit-log-file",
  },
  auditLogFile: {
    flag: "audit-log-file",
    kind: "string",
    description: "also (or, with --audit-log none, only) append audit records to this file, rotated by size",
  },
  auditLogMaxSize: {
    flag: "audit-log-max-size",
    kind: "number",
    description: "rotate the audit log file before it passes this many MiB; 0 never rotates (default 100)",
  },
  auditLogMaxBackups: {
    flag: "audit-log-max-backups",
    kind: "number",
    description: "rotated audit log files kept as <file>.1 … <file>.N (default 5)",
  },
  auditRequestHeaders: {
    flag: "audit-request-headers",
    kind: "list",
    description:
      "HTTP request headers copied into each audit record, e.g. x-model,x-route (never Authorization or Cookie)",
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
    description:
      "SSO passthrough: read the CA from Secret <cluster><suffix> (key tls.crt) instead of the ConfigMap; only when set",
  },
  caConfigmapSuffix: {
    flag: "ca-configmap-suffix",
    kind: "string",
    description: "SSO passthrough: the CA ConfigMap <cluster><suffix>, key ca.crt (default -ca-public)",
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
