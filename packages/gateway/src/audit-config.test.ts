import { GatewayError } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import { auditDestinations, loadConfig } from "./config.js";

const load = (flags: Record<string, string | boolean>, environment: Record<string, string> = {}) =>
  loadConfig({ flags, environment, homeDirectory: "/nonexistent" });

function failure(run: () => unknown): GatewayError {
  try {
    run();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error("expected a GatewayError");
}

describe("where audit records go", () => {
  it("defaults to stdout on streamable HTTP and to stderr on stdio, whose stdout is the protocol", () => {
    expect(auditDestinations(load({ transport: "streamable-http" }))).toEqual({ stream: "stdout" });
    expect(auditDestinations(load({}))).toEqual({ stream: "stderr" });
  });

  it("adds a rotated file, or uses the file alone with --audit-log none", () => {
    expect(
      auditDestinations(
        load({ transport: "streamable-http", auditLogFile: "/var/log/capi-mcp/audit.jsonl", auditLogMaxSize: "10" }),
      ),
    ).toEqual({
      stream: "stdout",
      file: { path: "/var/log/capi-mcp/audit.jsonl", maxBytes: 10 * 1024 * 1024, maxFiles: 5 },
    });
    expect(
      auditDestinations(load({ auditLog: "none", auditLogFile: "/tmp/a.jsonl", auditLogMaxBackups: "2" })),
    ).toEqual({ stream: "none", file: { path: "/tmp/a.jsonl", maxBytes: 100 * 1024 * 1024, maxFiles: 2 } });
  });

  it("reads a path given to --audit-log as the file alone, as before --audit-log-file existed", () => {
    expect(auditDestinations(load({ auditLog: "/tmp/audit.jsonl" }))).toEqual({
      stream: "none",
      file: { path: "/tmp/audit.jsonl", maxBytes: 100 * 1024 * 1024, maxFiles: 5 },
    });
  });

  it("refuses stdout on stdio, none without a file, and a file given twice", () => {
    expect(failure(() => load({ auditLog: "stdout" })).message).toContain("stdout carries the stdio transport");
    expect(failure(() => load({ auditLog: "none" })).message).toContain("leaves no audit trail");
    expect(failure(() => load({ auditLog: "/tmp/a", auditLogFile: "/tmp/b" })).message).toContain("give the file once");
  });
});

describe("--audit-request-headers", () => {
  it("takes header names, lower-cased, from the flag or CAPI_MCP_AUDIT_REQUEST_HEADERS", () => {
    expect(load({ auditRequestHeaders: "X-Model, x-route" }).auditRequestHeaders).toEqual(["x-model", "x-route"]);
    expect(load({}, { CAPI_MCP_AUDIT_REQUEST_HEADERS: "x-model" }).auditRequestHeaders).toEqual(["x-model"]);
  });

  it.each(["Authorization", "cookie", "Proxy-Authorization", "x-api-key"])(
    "refuses %s, which carries credentials",
    (name) => {
      expect(failure(() => load({ auditRequestHeaders: `x-model,${name}` })).message).toContain(
        "--audit-request-headers: must not name a header that carries credentials",
      );
    },
  );

  it("refuses what is not a header name", () => {
    expect(failure(() => load({ auditRequestHeaders: "x model" })).message).toContain("expected HTTP header names");
  });
});
