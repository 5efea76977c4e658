import { describe, expect, it } from "vitest";
import { GatewayError, gatewayErrorCodes, isGatewayError, isGatewayErrorCode } from "./gateway-error.js";

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
});
