// capi-mcp: the command line. Reads process.env and argv (only the gateway package does).
import { createRequire } from "node:module";
import { isGatewayError } from "@capi-mcp/core";
import pino from "pino";
import { parseArguments } from "./arguments.js";
import { helpText, loadConfig } from "./config.js";
import { startGateway } from "./serve.js";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

function fail(message: string, code = 2): never {
  process.stderr.write(`capi-mcp: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseArguments>;
  let config: ReturnType<typeof loadConfig>;
  try {
    parsed = parseArguments(process.argv.slice(2));
    if (parsed.command === "help") {
      process.stdout.write(`${helpText()}\n`);
      return;
    }
    if (parsed.command === "version") {
      process.stdout.write(`capi-mcp ${version}\n`);
      return;
    }
    config = loadConfig({
      flags: parsed.flags,
      environment: process.env,
      ...(parsed.configFile ? { configFile: parsed.configFile } : {}),
    });
  } catch (error) {
    fail(isGatewayError(error) ? error.message : String(error));
  }
  // Logs go to stderr: on stdio, stdout carries the protocol and nothing else.
  const logger = pino({ level: config.debug ? "debug" : "info", base: { service: "capi-mcp" } }, pino.destination(2));
  let running: Awaited<ReturnType<typeof startGateway>>;
  try {
    running = await startGateway(config, logger, version);
  } catch (error) {
    fail(
      isGatewayError(error)
        ? error.message
        : `failed to start: ${error instanceof Error ? error.message : String(error)}`,
      1,
    );
  }
  if (running.endpoint) process.stderr.write(`capi-mcp ${version}: MCP endpoint ${running.endpoint}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  if (config.transport === "stdio") process.stdin.on("end", () => stop("stdin closed"));
}

await main();
