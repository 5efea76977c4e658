// npm start: the gateway's main job on the embedded default, the local fleet. Runs capi-mcp in
// Cluster API mode against the fleet's management cluster (as the gateway's least-privilege
// service account), with login through the fleet's OpenID provider, in the foreground until
// Ctrl-C. The fleet stays up afterwards; stop it with `npm run fleet -- down`.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { fleetOAuthArguments, readFleetInfo } from "./fleet/fleet.ts";

const root = path.resolve(fileURLToPath(new URL("..", import.meta.url)));
const infoFile = path.join(process.env.CAPI_MCP_FLEET_DIR ?? path.join(root, ".fleet"), "fleet.json");
const info = await readFleetInfo(infoFile);
// The fleet registered the gateway's OAuth client with this port in its redirect URI.
const baseUrl = `http://127.0.0.1:${info.gateway.port}`;
const endpoint = `${baseUrl}/mcp`;
const cli = path.join(root, "packages/gateway/dist/cli.js");

process.stdout.write(
  [
    "",
    `capi-mcp in Cluster API mode on the local fleet: ${endpoint}`,
    `  management cluster ${info.management.server}, workload clusters: ${info.workloadClusters.map((cluster) => `${cluster.namespace}/${cluster.name}`).join(", ")}`,
    `  login: the fleet's OpenID provider ${info.oidc.issuer}; calls run on the workload clusters as you (impersonation)`,
    "  mode: non-destructive. To change it, start with e.g. CAPI_MCP_DRY_RUN=true npm start or",
    "  CAPI_MCP_WORKLOAD_AUTH=sso-passthrough npm start (every flag has a CAPI_MCP_* variable).",
    "",
    "Log in as one of these users (passwords generated for this fleet):",
    ...info.users.map((user) => `  ${user.email.padEnd(22)} ${user.password}  ${user.note}`),
    "",
    "MCP client configuration (streamable HTTP; the client registers itself and opens the login page):",
    JSON.stringify({ mcpServers: { "capi-mcp-fleet": { type: "http", url: endpoint } } }, null, 2),
    "",
    "Dynamic client registration is open on this local demo (--allow-public-registration); production",
    "deployments require a registration token (--registration-token-file).",
    "",
  ].join("\n"),
);

const gateway = spawn(
  process.execPath,
  [
    cli,
    "serve",
    "--transport",
    "streamable-http",
    "--http-addr",
    `127.0.0.1:${info.gateway.port}`,
    "--kubeconfig",
    info.management.gatewayKubeconfig,
    "--enable-capi",
    ...fleetOAuthArguments(info, baseUrl),
    "--allow-public-registration",
  ],
  { stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => gateway.kill(signal));
gateway.on("exit", (code) => process.exit(code ?? 0));
