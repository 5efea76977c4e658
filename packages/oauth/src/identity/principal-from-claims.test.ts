import { GatewayError } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import type { IdentityRules } from "../contracts.js";
import { defaultIdentityRules, principalFromClaims } from "./principal-from-claims.js";

const issuer = "https://dex.example.com";

const alice = {
  iss: issuer,
  sub: "CgVhbGljZRIEbGRhcA",
  aud: "capi-mcp",
  email: "alice@example.com",
  email_verified: true,
  groups: ["acme-dev"],
};

function principal(claims: Record<string, unknown>, rules: Partial<IdentityRules> = {}) {
  return principalFromClaims(claims, { issuer, rules: { ...defaultIdentityRules, ...rules } });
}

function refusal(claims: Record<string, unknown>, rules: Partial<IdentityRules> = {}): GatewayError {
  try {
    principal(claims, rules);
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("principalFromClaims", () => {
  it("makes alice's verified email her username and passes her groups through", () => {
    expect(principal(alice)).toEqual({
      subject: "CgVhbGljZRIEbGRhcA",
      issuer,
      username: "alice@example.com",
      email: "alice@example.com",
      emailVerified: true,
      groups: ["acme-dev"],
    });
  });

  it("gives no groups when the groups claim is absent, as with Google", () => {
    expect(principal({ ...alice, groups: undefined }).groups).toEqual([]);
  });

  it("treats a null groups claim as no groups", () => {
    expect(principal({ ...alice, groups: null }).groups).toEqual([]);
  });

  it("reads the username and groups from the configured claims", () => {
    const result = principal(
      { ...alice, preferred_username: "alice", roles: ["dev"] },
      { usernameClaim: "preferred_username", groupsClaim: "roles" },
    );
    expect(result.username).toBe("alice");
    expect(result.groups).toEqual(["dev"]);
  });

  it("does not need a verified email when the username comes from another claim", () => {
    const result = principal({ ...alice, email_verified: false }, { usernameClaim: "sub" });
    expect(result).toMatchObject({ username: alice.sub, email: "alice@example.com", emailVerified: false });
  });

  it("maps groups through the mapping and lets unmapped groups pass unchanged", () => {
    const result = principal(
      { ...alice, groups: ["globex-admins", "acme-dev"] },
      { groupMappings: { "globex-admins": ["globex-admins", "org-globex-viewers"] } },
    );
    expect(result.groups).toEqual(["globex-admins", "org-globex-viewers", "acme-dev"]);
  });

  it("drops a group mapped to an empty list and removes duplicates", () => {
    const result = principal(
      { ...alice, groups: ["everyone", "acme-dev", "acme-developers"] },
      { groupMappings: { everyone: [], "acme-developers": ["acme-dev"] } },
    );
    expect(result.groups).toEqual(["acme-dev"]);
  });

  it("does not treat inherited object properties such as constructor as mappings", () => {
    expect(principal({ ...alice, groups: ["constructor", "toString"] }).groups).toEqual(["constructor", "toString"]);
  });

  it("returns a frozen principal", () => {
    const result = principal(alice);
    expect(Object.isFrozen(result)).toBe(true);
    expect(Object.isFrozen(result.groups)).toBe(true);
  });
});

describe("principalFromClaims refusals", () => {
  it("are forbidden errors with a message for the user and a detail for the operator", () => {
    const error = refusal({ ...alice, email_verified: false });
    expect(error.code).toBe("forbidden");
    expect(error.message).toMatch(/^You cannot log in: /);
    expect(error.detail).toContain(`subject "${alice.sub}"`);
  });

  it("refuse an ID token without a subject", () => {
    expect(refusal({ ...alice, sub: undefined }).message).toContain("names no subject");
    expect(refusal({ ...alice, sub: "" }).message).toContain("names no subject");
    expect(refusal({ ...alice, sub: 42 }).message).toContain("names no subject");
  });

  it("refuse a subject with a line break or longer than 255 characters", () => {
    expect(refusal({ ...alice, sub: "alice\nbob" }).message).toContain("control character or line break");
    expect(refusal({ ...alice, sub: "a".repeat(256) }).message).toContain("is too long");
  });

  it("refuse claims from another issuer than the configured one", () => {
    expect(refusal({ ...alice, iss: "https://evil.example.com" }).message).toContain("another identity provider");
  });

  it("accept the issuer with or without a trailing slash", () => {
    expect(principal({ ...alice, iss: `${issuer}/` }).issuer).toBe(issuer);
  });

  it("refuse a user without an email when the email is the username", () => {
    const error = refusal({ ...alice, email: undefined });
    expect(error.message).toContain("did not report your email address");
    expect(error.detail).toContain("username claim email absent");
  });

  it("refuse an unverified email when the email is the username, as for the fleet's eve", () => {
    const error = refusal({ ...alice, email: "eve@example.com", email_verified: false });
    expect(error.message).toContain("reports your email address as not verified");
    expect(error.detail).toContain('email_verified is "false"');
  });

  it("refuse an absent email_verified claim when the email is the username", () => {
    expect(refusal({ ...alice, email_verified: undefined }).detail).toContain("email_verified is absent");
  });

  it('refuse the string "true" as email_verified: only a JSON true counts', () => {
    expect(refusal({ ...alice, email_verified: "true" }).message).toContain("not verified");
  });

  it("refuse an email that is not text", () => {
    expect(refusal({ ...alice, email: ["alice@example.com"] }).message).toContain("is not text");
  });

  it("refuse a username claim that is missing or not text", () => {
    expect(refusal(alice, { usernameClaim: "preferred_username" }).message).toContain(
      'no text claim "preferred_username"',
    );
    expect(refusal({ ...alice, name: 7 }, { usernameClaim: "name" }).detail).toContain("not a string");
  });

  it("refuse a username beginning with system:, which Kubernetes reserves", () => {
    const error = refusal({ ...alice, name: "system:admin" }, { usernameClaim: "name" });
    expect(error.message).toContain('"system:admin" begins with the reserved prefix system:');
    expect(error.message).toContain("Kubernetes reserves that prefix");
  });

  it("refuse a system: email used as the username", () => {
    expect(refusal({ ...alice, email: "system:kube-scheduler" }).message).toContain("reserved prefix system:");
  });

  it("refuse the group system:masters, as the fleet's mallory claims it", () => {
    const error = refusal({ ...alice, groups: ["acme-dev", "system:masters"] });
    expect(error.message).toBe(
      'You cannot log in: the identity provider assigned you the group "system:masters", but groups beginning with ' +
        '"system:" are reserved by Kubernetes and can never come from an identity provider. Ask the identity ' +
        "provider's administrator to remove it.",
    );
    expect(error.detail).toContain('upstream group "system:masters"');
  });

  it("refuse a system: group whatever its case, so no look-alike slips through", () => {
    expect(refusal({ ...alice, groups: ["System:Masters"] }).message).toContain("reserved by Kubernetes");
  });

  it("refuse a system: group even when the mapping would rename it", () => {
    const error = refusal(
      { ...alice, groups: ["system:masters"] },
      { groupMappings: { "system:masters": ["admins"] } },
    );
    expect(error.message).toContain('assigned you the group "system:masters"');
  });

  it("refuse a mapping that turns a group into a system: group", () => {
    const error = refusal(alice, { groupMappings: { "acme-dev": ["system:masters"] } });
    expect(error.message).toContain('the group mapping turns your group "acme-dev" into "system:masters"');
    expect(error.message).toContain("fix the group mapping");
  });

  it("refuse a mapping that turns a group into an empty name", () => {
    expect(refusal(alice, { groupMappings: { "acme-dev": [""] } }).message).toContain("into a group that is empty");
  });

  it("refuse a groups claim that is not a list of strings", () => {
    expect(refusal({ ...alice, groups: "acme-dev" }).message).toContain("is not a list of group names");
    expect(refusal({ ...alice, groups: ["acme-dev", 3] }).message).toContain("is not a list of group names");
  });

  it("refuse an empty group name", () => {
    expect(refusal({ ...alice, groups: ["acme-dev", ""] }).message).toContain(
      'the 2nd group from the identity provider "" is empty',
    );
  });

  it("refuse a group with a newline, without echoing it", () => {
    const error = refusal({ ...alice, groups: ["acme-dev\r\nImpersonate-Group: system:masters"] });
    expect(error.message).toContain(
      "the 1st group from the identity provider contains a control character or line break",
    );
    expect(error.message).not.toContain("Impersonate-Group");
    expect(error.detail).not.toContain("Impersonate-Group");
  });

  it("refuse a group with a tab or another control character", () => {
    expect(refusal({ ...alice, groups: ["acme\tdev"] }).message).toContain("control character");
    expect(refusal({ ...alice, groups: ["acme\u007fdev"] }).message).toContain("control character");
  });

  it("refuse a group with leading or trailing whitespace", () => {
    expect(refusal({ ...alice, groups: [" acme-dev"] }).message).toContain("begins or ends with whitespace");
    expect(refusal({ ...alice, groups: ["acme-dev "] }).message).toContain("begins or ends with whitespace");
  });

  it("refuse a username with leading or trailing whitespace", () => {
    expect(refusal({ ...alice, email: "alice@example.com " }).message).toContain("begins or ends with whitespace");
  });

  it("refuse non-ASCII usernames and groups, which impersonation headers cannot carry faithfully", () => {
    expect(refusal({ ...alice, email: "josé@example.com" }).message).toContain("outside printable ASCII");
    expect(refusal({ ...alice, groups: ["développeurs"] }).message).toContain("outside printable ASCII");
    expect(refusal({ ...alice, groups: ["dev\u2028ops"] }).message).toContain("outside printable ASCII");
  });

  it("refuse a username longer than 256 characters and accept one of exactly 256", () => {
    const local = "a".repeat(256 - "@example.com".length);
    expect(principal({ ...alice, email: `${local}@example.com` }).username).toHaveLength(256);
    expect(refusal({ ...alice, email: `${local}a@example.com` }).message).toContain("is too long");
  });

  it("refuse a group longer than 256 characters and accept one of exactly 256", () => {
    expect(principal({ ...alice, groups: ["g".repeat(256)] }).groups).toHaveLength(1);
    expect(refusal({ ...alice, groups: ["g".repeat(257)] }).message).toContain("is too long");
  });

  it("refuse more than 200 groups and accept exactly 200", () => {
    const groups = Array.from({ length: 200 }, (_, index) => `group-${index}`);
    expect(principal({ ...alice, groups }).groups).toHaveLength(200);
    expect(refusal({ ...alice, groups: [...groups, "one-too-many"] }).message).toContain(
      "reported 201 groups for you; the gateway accepts at most 200",
    );
  });

  it("refuse a mapping that expands the groups beyond 200", () => {
    const targets = Array.from({ length: 201 }, (_, index) => `group-${index}`);
    expect(refusal(alice, { groupMappings: { "acme-dev": targets } }).message).toContain(
      "the group mapping gives you 201 groups",
    );
  });

  it("name the position of the offending group with the right ordinal", () => {
    const groups = (bad: number) => Array.from({ length: bad + 1 }, (_, index) => (index === bad ? "" : `g${index}`));
    expect(refusal({ ...alice, groups: groups(2) }).message).toContain("the 3rd group");
    expect(refusal({ ...alice, groups: groups(10) }).message).toContain("the 11th group");
    expect(refusal({ ...alice, groups: groups(21) }).message).toContain("the 22nd group");
  });
});
