// npm start: the gateway's main job on the embedded default, the local fleet. Brings the fleet up
// (if it is not), then runs capi-mcp on streamable HTTP against the fleet's kubeconfig in the
// foreground until Ctrl-C. The fleet stays up afterwards; stop it with `npm run fleet -- down`.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readFleetInfo } from "./fleet/fleet.ts";

const root = path.resolve(fileURLToPath(new URL("..", import.meta.url)));
const infoFile = path.join(process.env.CAPI_MCP_FLEET_DIR ?? path.join(root, ".fleet"), "fleet.json");
const info = await readFleetInfo(infoFile);
const address = process.env.CAPI_MCP_HTTP_ADDR ?? "127.0.0.1:8080";
const endpoint = `http://${address}/mcp`;
const cli = path.join(root, "packages/gateway/dist/cli.js");

const snippet = {
  mcpServers: { "capi-mcp-fleet": { type: "http", url: endpoint } },
};
const stdioSnippet = {
  mcpServers: {
    "capi-mcp-fleet": {
      command: process.execPath,
      args: [cli, "serve", "--kubeconfig", info.kubeconfig, "--context", "org-acme/dev"],
    },
  },
};
process.stdout.write(
  [
    "",
    `capi-mcp on the local fleet: ${endpoint}`,
    `  clusters (kubeconfig contexts): management, ${info.workloadClusters.map((cluster) => `${cluster.namespace}/${cluster.name}`).join(", ")}`,
    "  mode: non-destructive (no tool changes anything). To change it, start with e.g. CAPI_MCP_DRY_RUN=true npm start",
    "  or CAPI_MCP_ALLOW_OPERATIONS=exec,port-forward npm start (every flag has a CAPI_MCP_* variable).",
    "",
    "MCP client configuration (streamable HTTP):",
    JSON.stringify(snippet, null, 2),
    "",
    "Or over stdio:",
    JSON.stringify(stdioSnippet, null, 2),
    "",
    "Try it with the MCP Inspector:",
    `  npx @modelcontextprotocol/inspector --cli --method tools/call --tool-name k8s_list_contexts ${endpoint}`,
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
    address,
    "--kubeconfig",
    info.kubeconfig,
    "--context",
    "org-acme/dev",
  ],
  { stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => gateway.kill(signal));
gateway.on("exit", (code) => process.exit(code ?? 0));
