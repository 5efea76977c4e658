// How the validated claims of an upstream ID token become the Kubernetes identity a user acts
// as. Every refusal is a `forbidden` GatewayError whose message tells the user exactly which rule
// stopped them; the `detail` is for the operator's log and audit record.
import { GatewayError, type Principal } from "@capi-mcp/core";
import type { IdentityRules } from "../contracts.js";
import {
  identityValueProblem,
  maximumGroupCount,
  maximumGroupLength,
  maximumSubjectLength,
  maximumUsernameLength,
  reservedPrefix,
  type ValueProblem,
  valueIsUnprintable,
} from "./identity-values.js";

/** Email as the username, `groups` as the groups, no mapping: what Dex and most providers need. */
export const defaultIdentityRules: IdentityRules = Object.freeze({
  usernameClaim: "email",
  groupsClaim: "groups",
  groupMappings: Object.freeze({}),
});

export interface PrincipalFromClaimsOptions {
  /** The upstream issuer, as configured; becomes `Principal.issuer`. */
  readonly issuer: string;
  readonly rules: IdentityRules;
}

function refuse(reason: string, detail: string): GatewayError {
  return new GatewayError("forbidden", `You cannot log in: ${reason}.`, { detail });
}

function quoted(value: string): string {
  return JSON.stringify(value);
}

// Describes a bad value without echoing it when its characters are the problem: it might carry
// a line break into a log line or an HTML page.
function describeValue(subject: string, value: string, problem: ValueProblem): string {
  return valueIsUnprintable(problem) ? `${subject} ${problem}` : `${subject} ${quoted(value)} ${problem}`;
}

function ordinal(index: number): string {
  const position = index + 1;
  const lastTwo = position % 100;
  if (lastTwo >= 11 && lastTwo <= 13) return `${position}th`;
  const suffixes: Record<number, string> = { 1: "st", 2: "nd", 3: "rd" };
  return `${position}${suffixes[position % 10] ?? "th"}`;
}

function sameIssuer(left: string, right: string): boolean {
  if (left === right) return true;
  try {
    return new URL(left).href === new URL(right).href;
  } catch {
    return false;
  }
}

function subjectOf(claims: Readonly<Record<string, unknown>>): string {
  const subject = claims.sub;
  if (typeof subject !== "string" || subject.length === 0) {
    throw refuse("the identity provider's ID token names no subject (the sub claim)", "claim sub missing or not text");
  }
  const problem = identityValueProblem(subject, maximumSubjectLength);
  // `system:` is a Kubernetes convention for names, not for opaque subjects: only the
  // character rules apply here.
  if (problem !== undefined && problem !== "begins with the reserved prefix system:") {
    throw refuse(`the subject (sub claim) in the identity provider's ID token ${problem}`, `claim sub ${problem}`);
  }
  return subject;
}

function emailOf(claims: Readonly<Record<string, unknown>>, detailPrefix: string): string | undefined {
  const email = claims.email;
  if (email === undefined || email === null) return undefined;
  if (typeof email !== "string") {
    throw refuse(
      "the email address from the identity provider is not text",
      `${detailPrefix}; claim email not a string`,
    );
  }
  const problem = identityValueProblem(email, maximumUsernameLength);
  if (problem !== undefined) {
    throw refuse(
      describeValue("the email address from the identity provider", email, problem),
      `${detailPrefix}; email ${problem}`,
    );
  }
  return email;
}

function usernameOf(
  claims: Readonly<Record<string, unknown>>,
  rules: IdentityRules,
  email: string | undefined,
  emailVerified: boolean,
  detailPrefix: string,
): string {
  if (rules.usernameClaim === "email") {
    if (email === undefined) {
      throw refuse(
        "the identity provider did not report your email address, and the gateway uses it as your Kubernetes username. " +
          "Ask the administrator to request the email scope or to configure another username claim",
        `${detailPrefix}; username claim email absent`,
      );
    }
    if (!emailVerified) {
      throw refuse(
        "the identity provider reports your email address as not verified, and the gateway uses it as your Kubernetes " +
          "username. Verify your email address with the identity provider, then log in again",
        `${detailPrefix}; email_verified is ${claims.email_verified === undefined ? "absent" : quoted(String(claims.email_verified))}`,
      );
    }
    return email;
  }
  const value = claims[rules.usernameClaim];
  if (typeof value !== "string") {
    throw refuse(
      `the identity provider's ID token has no text claim ${quoted(rules.usernameClaim)}, which the gateway uses as your Kubernetes username`,
      `${detailPrefix}; username claim ${rules.usernameClaim} ${value === undefined ? "absent" : "not a string"}`,
    );
  }
  const problem = identityValueProblem(value, maximumUsernameLength);
  if (problem !== undefined) {
    throw refuse(
      `${describeValue(`your username (claim ${quoted(rules.usernameClaim)})`, value, problem)}${problem === "begins with the reserved prefix system:" ? "; Kubernetes reserves that prefix for its own users, and an identity provider may not assign it" : ", so it cannot be sent to Kubernetes safely"}`,
      `${detailPrefix}; username ${problem}`,
    );
  }
  return value;
}

/** Where a group came from: the provider's claim (by position) or the mapping of another group. */
type GroupSource =
  | { readonly from: "upstream"; readonly index: number }
  | { readonly from: "mapping"; readonly of: string };

function checkGroup(group: string, source: GroupSource, detailPrefix: string): void {
  const problem = identityValueProblem(group, maximumGroupLength);
  if (problem === undefined) return;
  const reserved = problem === "begins with the reserved prefix system:";
  if (source.from === "upstream") {
    throw refuse(
      reserved
        ? `the identity provider assigned you the group ${quoted(group)}, but groups beginning with ${quoted(reservedPrefix)} ` +
            "are reserved by Kubernetes and can never come from an identity provider. Ask the identity provider's " +
            "administrator to remove it"
        : `${describeValue(`the ${ordinal(source.index)} group from the identity provider`, group, problem)}, so it cannot be sent to Kubernetes safely`,
      `${detailPrefix}; upstream group ${reserved ? quoted(group) : `#${source.index + 1}`} ${problem}`,
    );
  }
  throw refuse(
    reserved
      ? `the group mapping turns your group ${quoted(source.of)} into ${quoted(group)}, but groups beginning with ` +
          `${quoted(reservedPrefix)} are reserved by Kubernetes. Ask the gateway's administrator to fix the group mapping`
      : `the group mapping turns your group ${quoted(source.of)} into a group that ${problem}. Ask the gateway's ` +
          "administrator to fix the group mapping",
    `${detailPrefix}; group ${quoted(source.of)} maps to a group that ${problem}`,
  );
}

function groupsOf(claims: Readonly<Record<string, unknown>>, rules: IdentityRules, detailPrefix: string): string[] {
  const raw = claims[rules.groupsClaim];
  // Providers without groups (Google) omit the claim; some send null for "none".
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || !raw.every((group): group is string => typeof group === "string")) {
    throw refuse(
      `the groups claim ${quoted(rules.groupsClaim)} from the identity provider is not a list of group names`,
      `${detailPrefix}; claim ${rules.groupsClaim} not an array of strings`,
    );
  }
  if (raw.length > maximumGroupCount) {
    throw refuse(
      `the identity provider reported ${raw.length} groups for you; the gateway accepts at most ${maximumGroupCount}`,
      `${detailPrefix}; ${raw.length} upstream groups`,
    );
  }
  const mapped: string[] = [];
  for (const [index, group] of raw.entries()) {
    checkGroup(group, { from: "upstream", index }, detailPrefix);
    const targets = Object.hasOwn(rules.groupMappings, group) ? (rules.groupMappings[group] ?? []) : [group];
    for (const target of targets) {
      checkGroup(target, { from: "mapping", of: group }, detailPrefix);
      if (!mapped.includes(target)) mapped.push(target);
    }
  }
  if (mapped.length > maximumGroupCount) {
    throw refuse(
      `the group mapping gives you ${mapped.length} groups; the gateway accepts at most ${maximumGroupCount}`,
      `${detailPrefix}; ${mapped.length} groups after mapping`,
    );
  }
  return mapped;
}

/**
 * The Kubernetes identity for validated ID token claims, or a `forbidden` GatewayError naming
 * the rule that refuses it. The caller (the authorization server) adds the token custody.
 */
export function principalFromClaims(
  claims: Readonly<Record<string, unknown>>,
  options: PrincipalFromClaimsOptions,
): Omit<Principal, "idTokenCustody"> {
  const subject = subjectOf(claims);
  const detailPrefix = `issuer ${options.issuer} subject ${quoted(subject)}`;
  if (typeof claims.iss === "string" && !sameIssuer(claims.iss, options.issuer)) {
    throw refuse(
      "the ID token was issued by another identity provider than the one configured",
      `${detailPrefix}; iss differs`,
    );
  }
  const email = emailOf(claims, detailPrefix);
  // Only a JSON true counts: a missing claim, false, or the string "true" is not a verification.
  const emailVerified = claims.email_verified === true;
  const username = usernameOf(claims, options.rules, email, emailVerified, detailPrefix);
  const groups = groupsOf(claims, options.rules, detailPrefix);
  return Object.freeze({
    subject,
    issuer: options.issuer,
    username,
    email,
    emailVerified,
    groups: Object.freeze(groups),
  });
}
