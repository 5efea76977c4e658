import { describe, expect, it } from "vitest";
import {
  GatewayError,
  type GatewayErrorCode,
  gatewayErrorCodes,
  isGatewayError,
  isGatewayErrorCode,
} from "./gateway-error.js";

describe("GatewayError", () => {
  it("keeps the user-facing message apart from the internal detail", () => {
    const error = new GatewayError("forbidden", "You may not list secrets in namespace web.", {
      detail: "upstream 403 from https://127.0.0.1:6443",
    });
    expect(error.message).toBe("You may not list secrets in namespace web.");
    expect(error.message).not.toContain("127.0.0.1");
    expect(error.detail).toContain("upstream 403");
    expect(isGatewayError(error)).toBe(true);
    expect(isGatewayError(new Error("plain"))).toBe(false);
  });

  it("recognises exactly the codes of the closed union", () => {
    for (const code of gatewayErrorCodes) expect(isGatewayErrorCode(code)).toBe(true);
    expect(isGatewayErrorCode("teapot")).toBe(false);
  });

  it("forces every mapping table to handle every code (checked by the compiler)", () => {
    // If a code is added without a mapping here, `tsc -b` fails: that is the point of the table.
    const httpStatus: Record<GatewayErrorCode, number> = {
      invalid_input: 400,
      unauthenticated: 401,
      forbidden: 403,
      denied_by_policy: 403,
      not_found: 404,
      cluster_not_found: 404,
      ambiguous_cluster: 409,
      conflict: 409,
      invalid_object: 422,
      rate_limited: 429,
      timeout: 504,
      too_large: 413,
      unavailable: 503,
      internal: 500,
    };
    expect(Object.keys(httpStatus).sort()).toEqual([...gatewayErrorCodes].sort());
  });
});
