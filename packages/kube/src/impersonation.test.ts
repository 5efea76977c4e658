import { GatewayError } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import { escapeExtraKey, identityTerms, impersonationHeaders } from "./impersonation.js";

describe("impersonation headers", () => {
  it("sends the user, each group as its own header value, and each extra under an escaped key", () => {
    expect(
      impersonationHeaders({
        user: "alice@example.com",
        groups: ["acme-dev", "acme-readers"],
        extra: { "capi-mcp.io/session": ["s1"], Scopes: ["read", "write"] },
      }),
    ).toEqual({
      "Impersonate-User": "alice@example.com",
      "Impersonate-Group": ["acme-dev", "acme-readers"],
      "Impersonate-Extra-capi-mcp.io%2Fsession": ["s1"],
      "Impersonate-Extra-scopes": ["read", "write"],
    });
  });

  it("escapes extra keys like client-go: lower case, token characters kept, everything else and % encoded", () => {
    expect(escapeExtraKey("Example.com/Foo Bar")).toBe("example.com%2Ffoo%20bar");
    expect(escapeExtraKey("100%")).toBe("100%25");
    expect(escapeExtraKey("a!#$&'*+-.^_`|~z")).toBe("a!#$&'*+-.^_`|~z");
    expect(escapeExtraKey("ключ")).toBe("%D0%BA%D0%BB%D1%8E%D1%87");
  });

  it("omits the group header when there are no groups", () => {
    expect(impersonationHeaders({ user: "bob", groups: [] })).toEqual({ "Impersonate-User": "bob" });
  });

  it("refuses values that could smuggle another header line", () => {
    expect(() => impersonationHeaders({ user: "bob\r\nImpersonate-Group: system:masters", groups: [] })).toThrow(
      GatewayError,
    );
    expect(() => impersonationHeaders({ user: "bob", groups: ["ok", "bad\n"] })).toThrow(GatewayError);
    expect(() => impersonationHeaders({ user: "", groups: [] })).toThrow(GatewayError);
  });

  it("lists the identity's names so error text can be scrubbed of them", () => {
    expect(identityTerms({ user: "alice", groups: ["g1"], extra: { k: ["v"] } })).toEqual(["alice", "g1", "v"]);
    expect(identityTerms(undefined)).toEqual([]);
  });
});
