import { Writable } from "node:stream";
import { GatewayError } from "@capi-mcp/core";
import type { OAuthMetrics } from "@capi-mcp/telemetry";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createOAuthReports } from "./oauth-reports.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString("utf8")) as Record<string, unknown>);
      done();
    },
  });
  const counted: string[] = [];
  const metrics: OAuthMetrics = {
    recordDecryptionFailure: (reason) => counted.push(`decryption:${reason}`),
    recordRegistrationRefused: (reason) => counted.push(`registration:${reason}`),
    recordSecurityEvent: (event) => counted.push(`security:${event}`),
  };
  let instant = 0;
  const reports = createOAuthReports({
    logger: pino({ level: "info" }, destination),
    metrics,
    maxRegisteredClients: 5000,
    now: () => instant,
  });
  return {
    reports,
    lines,
    counted,
    advance: (milliseconds: number) => {
      instant += milliseconds;
    },
  };
}

describe("OAuth reports to the operator", () => {
  it("logs one event and counts one failure per value that fails to decrypt, with its key and reason", () => {
    const { reports, lines, counted } = capture();
    reports.decryptionFailed({ key: "authorization-server:access-token:abc", reason: "authentication-failed" });
    reports.decryptionFailed({ key: "authorization-server:grant:g1", reason: "malformed" });
    expect(lines.map((line) => [line.event, line.key, line.reason, line.level])).toEqual([
      ["token_store_decryption_failed", "authorization-server:access-token:abc", "authentication-failed", 40],
      ["token_store_decryption_failed", "authorization-server:grant:g1", "malformed", 40],
    ]);
    expect(counted).toEqual(["decryption:authentication-failed", "decryption:malformed"]);
  });

  it("counts every refusal at the registration cap but logs a flood of them once a minute", () => {
    const { reports, lines, counted, advance } = capture();
    const refusal = {
      type: "registration_refused" as const,
      time: "2026-12-03T10:00:00Z",
      reason: "cap",
      code: "capacity" as const,
    };
    for (let index = 0; index < 5; index += 1) reports.authorizationEvent(refusal);
    advance(60_000);
    reports.authorizationEvent(refusal);
    reports.authorizationEvent({ ...refusal, code: "unauthorized" });
    expect(counted).toEqual(Array.from({ length: 6 }, () => "registration:capacity"));
    expect(lines.map((line) => [line.event, line.refused, line.maxRegisteredClients])).toEqual([
      ["registration_capacity_reached", 1, 5000],
      ["registration_capacity_reached", 5, 5000],
    ]);
  });

  it("counts code reuse, refresh reuse, PKCE failures and rate limiting as OAuth security events", () => {
    const { reports, counted } = capture();
    const time = "2026-12-03T10:00:00Z";
    const family = { clientId: "c1", grantId: "g1", actor: undefined, familyRevoked: true as const };
    reports.authorizationEvent({ type: "authorization_code_reuse_detected", time, ...family });
    reports.authorizationEvent({ type: "refresh_token_reuse_detected", time, ...family });
    reports.authorizationEvent({ type: "pkce_verification_failed", time, clientId: "c1", grantId: "g1" });
    reports.authorizationEvent({
      type: "rate_limited",
      time,
      endpoint: "/oauth/token",
      limit: "address",
      clientId: undefined,
    });
    reports.authorizationEvent({ type: "client_refused", time, clientId: "c1", reason: "unknown" });
    expect(counted).toEqual([
      "security:code_reuse",
      "security:refresh_reuse",
      "security:pkce_failure",
      "security:rate_limited",
    ]);
  });

  it("logs an unexpected failure with its code and operator detail only", () => {
    const { reports, lines } = capture();
    reports.unexpectedError(new GatewayError("unavailable", "The token store is full.", { detail: "50000 of 50000" }));
    expect(lines[0]).toMatchObject({
      level: 50,
      code: "unavailable",
      error: "The token store is full.",
      detail: "50000 of 50000",
    });
  });
});
