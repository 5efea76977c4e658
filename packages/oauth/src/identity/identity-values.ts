// The shape every identity value must have before it may become a Kubernetes username or group.
// Usernames and groups travel to the API servers as `Impersonate-User` / `Impersonate-Group`
// header values, so anything a header cannot carry verbatim is refused here, at login, with a
// reason the user can act on, rather than failing (or being mangled) on every later call.

/** Kubernetes reserves this prefix for its own users and groups (`system:masters`, …). */
export const reservedPrefix = "system:";

export const maximumUsernameLength = 256;
export const maximumGroupLength = 256;
export const maximumGroupCount = 200;
/** OpenID Connect Core §2: `sub` MUST NOT exceed 255 ASCII characters. */
export const maximumSubjectLength = 255;

/** Why a value is unusable, in words that fit after "The <what> " in a sentence. */
export type ValueProblem =
  | "is empty"
  | "is too long"
  | "contains a control character or line break"
  | "contains characters outside printable ASCII"
  | "begins or ends with whitespace"
  | "begins with the reserved prefix system:";

// Only printable ASCII (space to tilde) is accepted. Header values are byte strings: Node and
// undici send characters above U+00FF not at all and U+0080–U+00FF as Latin-1, which the API
// server would read as different (invalid UTF-8) bytes than the identity provider meant, so a
// Unicode username could silently become another user. Percent-encoding, which client-go
// applies to `Impersonate-Extra-*` keys, is not defined for `Impersonate-User` or
// `Impersonate-Group` values. The cost: users whose username claim is non-ASCII must use
// another username claim (`sub`, for example).
const nonPrintableAscii = /[^\u0020-\u007e]/;

function hasControlCharacter(value: string): boolean {
  for (let index = 0; index < value.length; index += 1) {
    const code = value.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * Returns what is wrong with a prospective username or group, or undefined when it is usable.
 * The reserved prefix is compared case-insensitively: Kubernetes itself compares exactly, but
 * nothing legitimate is named `System:…`, and refusing it leaves no look-alike to argue about.
 */
export function identityValueProblem(value: string, maximumLength: number): ValueProblem | undefined {
  if (value.length === 0) return "is empty";
  if (value.length > maximumLength) return "is too long";
  if (hasControlCharacter(value)) return "contains a control character or line break";
  if (nonPrintableAscii.test(value)) return "contains characters outside printable ASCII";
  if (value.trim() !== value) return "begins or ends with whitespace";
  if (value.toLowerCase().startsWith(reservedPrefix)) return "begins with the reserved prefix system:";
  return undefined;
}

/** Whether a problem is about the characters, so the offending value must not be echoed. */
export function valueIsUnprintable(problem: ValueProblem): boolean {
  return (
    problem === "contains a control character or line break" ||
    problem === "contains characters outside printable ASCII" ||
    problem === "is too long"
  );
}
