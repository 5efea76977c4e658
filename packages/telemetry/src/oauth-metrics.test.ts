import type { Meter } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { createOAuthMetrics } from "./oauth-metrics.js";

describe("OAuth metrics", () => {
  it("counts decryption failures and refused registrations by reason, each in its own counter", () => {
    const added: { counter: string; value: number; attributes: unknown }[] = [];
    const meter = {
      createCounter: (counter: string) => ({
        add: (value: number, attributes: unknown) => added.push({ counter, value, attributes }),
      }),
    } as unknown as Meter;
    const oauthMetrics = createOAuthMetrics({ meter });
    oauthMetrics.recordDecryptionFailure("authentication-failed");
    oauthMetrics.recordRegistrationRefused("capacity");
    expect(added).toEqual([
      {
        counter: "capi_mcp.oauth.token_store.decryption_failures",
        value: 1,
        attributes: { "capi_mcp.oauth.reason": "authentication-failed" },
      },
      {
        counter: "capi_mcp.oauth.registrations.refused",
        value: 1,
        attributes: { "capi_mcp.oauth.reason": "capacity" },
      },
    ]);
  });
});
