import { GatewayError } from "@capi-mcp/core";
import { ClientError } from "openid-client";
import { describe, expect, it } from "vitest";
import { upstreamFailure } from "./upstream-failures.js";

const issuer = "https://dex.example.com";

describe("upstreamFailure", () => {
  it("reports a connection failure during login as unavailable, with the system's reason in the detail", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5556"), { code: "ECONNREFUSED" });
    const error = upstreamFailure(new TypeError("fetch failed", { cause: refused }), "login", issuer);
    expect(error.code).toBe("unavailable");
    expect(error.message).toBe("The identity provider cannot be reached right now. Please try again later.");
    expect(error.detail).toBe(
      `login at ${issuer}: TypeError: fetch failed; caused by Error: connect ECONNREFUSED 127.0.0.1:5556 [ECONNREFUSED]`,
    );
  });

  it("reports a timeout as unavailable", () => {
    const timeout = Object.assign(new ClientError("operation timed out"), { code: "OAUTH_TIMEOUT" });
    expect(upstreamFailure(timeout, "refresh", issuer).code).toBe("unavailable");
  });

  it("reports any failure during discovery as unavailable", () => {
    expect(upstreamFailure(new Error("anything"), "discovery", issuer).code).toBe("unavailable");
  });

  it("reports an unexplained failure during login as unauthenticated with a general reason", () => {
    const error = upstreamFailure(new Error("something odd"), "login", issuer);
    expect(error.code).toBe("unauthenticated");
    expect(error.message).toBe(
      "The login with the identity provider failed: the answer from the identity provider could not be validated. " +
        "Please log in again.",
    );
  });

  it("reports a programming error in the arguments as internal", () => {
    const misuse = Object.assign(new TypeError('"expectedNonce" must be a string'), { code: "ERR_INVALID_ARG_TYPE" });
    expect(upstreamFailure(misuse, "login", issuer).code).toBe("internal");
  });

  it("passes a GatewayError through unchanged", () => {
    const original = new GatewayError("unavailable", "down");
    expect(upstreamFailure(original, "login", issuer)).toBe(original);
  });

  it("scrubs the exchange's secrets from the detail and keeps it to one printable line", () => {
    const secret = "s3cr3t-refresh-token";
    const error = upstreamFailure(new Error(`bad token ${secret}\nsecond line`), "refresh", issuer, [secret]);
    expect(error.detail).toBe(`refresh at ${issuer}: Error: bad token [redacted] second line`);
  });

  it("never attaches the original error, whose cause may hold the code or a token", () => {
    const error = upstreamFailure(new Error("x", { cause: new URLSearchParams({ code: "abc" }) }), "login", issuer);
    expect(error.cause).toBeUndefined();
  });
});
