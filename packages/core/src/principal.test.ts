import { describe, expect, it } from "vitest";
import { type Principal, principalIdentityKey } from "./principal.js";

const alice: Principal = {
  subject: "alice",
  issuer: "https://127.0.0.1:5556",
  username: "alice@example.com",
  email: "alice@example.com",
  emailVerified: true,
  groups: ["acme-dev", "acme-readers"],
  idTokenCustody: undefined,
};

describe("principal identity keys", () => {
  it("ignores the order of groups", () => {
    expect(principalIdentityKey(alice)).toBe(principalIdentityKey({ ...alice, groups: ["acme-readers", "acme-dev"] }));
  });

  it("differs when the groups differ, so a user whose groups changed gets a new client", () => {
    expect(principalIdentityKey(alice)).not.toBe(principalIdentityKey({ ...alice, groups: ["acme-dev"] }));
  });

  it("differs between issuers for the same subject", () => {
    expect(principalIdentityKey(alice)).not.toBe(principalIdentityKey({ ...alice, issuer: "https://other.example" }));
  });
});
