import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import { GatewayError } from "@capi-mcp/core";

const flag = "--token-encryption-key-file";
const keyLength = 32;
// A key in any accepted format is at most 64 characters plus whitespace; anything much larger is
// not a key, and is not read into memory.
const maxFileSize = 1024;
const hexPattern = /^[0-9a-fA-F]{64}$/;
const base64Pattern = /^[A-Za-z0-9+/]{43}=?$/;
const base64UrlPattern = /^[A-Za-z0-9_-]{43}$/;
const howToMakeOne =
  "create one with: openssl rand -base64 32 > token-encryption.key && chmod 600 token-encryption.key";

/**
 * Reads the 256-bit token encryption key: exactly 32 raw bytes, or (whitespace trimmed) 64 hex
 * characters, or 32 bytes in base64 or base64url. Anything else is refused with what is expected
 * and how to make a key; the file's content is never echoed.
 *
 * A file that group or others may read is refused rather than warned about (there is no logger
 * here, and a warning at start-up is easy to miss): whoever reads the key can decrypt every token
 * at rest. See `permissionProblem` for the exact rule and its one allowance for Kubernetes.
 */
export function loadTokenEncryptionKey(file: string): Buffer {
  let descriptor: number;
  try {
    descriptor = openSync(file, "r");
  } catch (error) {
    throw new GatewayError("invalid_input", `${flag}: cannot open ${file} (${errorCode(error)}).`);
  }
  let content: Buffer;
  try {
    // Checked on the open descriptor, so the file checked is the file read.
    const status = fstatSync(descriptor);
    if (!status.isFile()) {
      throw new GatewayError("invalid_input", `${flag}: ${file} is not a regular file; ${howToMakeOne}.`);
    }
    if (process.platform !== "win32") {
      const problem = permissionProblem({
        mode: status.mode,
        ownerUid: status.uid,
        processUid: process.geteuid?.() ?? status.uid,
        file,
      });
      if (problem !== undefined) {
        throw new GatewayError("invalid_input", `${flag}: ${file} ${problem}`);
      }
    }
    if (status.size > maxFileSize) {
      throw formatError(file, `${status.size} bytes; too large to be a key`);
    }
    content = readFileSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
  try {
    return parseKey(content, file);
  } finally {
    content.fill(0);
  }
}

export interface KeyFilePermissions {
  readonly mode: number;
  readonly ownerUid: number;
  readonly processUid: number;
  /** Only to write the fix into the message. */
  readonly file: string;
}

/**
 * Why a key file's permissions are unsafe, or undefined when they are fine. Exported for tests
 * only (not from the package index).
 *
 * The rule is PostgreSQL's for its TLS key: a file owned by the gateway's own user must not be
 * accessible to group or others (at most 0600); a file owned by root may also be readable by its
 * group (at most 0640). The allowance exists because Kubernetes mounts Secret volumes as
 * root-owned and, with an `fsGroup`, always makes them group-readable for the pod's group.
 * Files owned by any other user are refused: that user could replace the key.
 */
export function permissionProblem(permissions: KeyFilePermissions): string | undefined {
  const mode = permissions.mode & 0o777;
  const shown = mode.toString(8).padStart(4, "0");
  const ownedByProcess = permissions.ownerUid === permissions.processUid;
  if (!ownedByProcess && permissions.ownerUid !== 0) {
    return (
      `is owned by user ${permissions.ownerUid}, who could replace the key; it must be owned by the ` +
      `gateway's user (${permissions.processUid}) or root: chown ${permissions.processUid} ${permissions.file}.`
    );
  }
  const forbidden = ownedByProcess ? 0o077 : 0o037;
  if ((mode & forbidden) === 0) {
    return undefined;
  }
  const allowed = ownedByProcess ? "0600" : "0640";
  return (
    `is accessible to ${ownedByProcess ? "group or others" : "others, or writable by its group"} (mode ${shown}); ` +
    `whoever reads it can decrypt every stored token. Restrict it to at most ${allowed}: chmod 600 ${permissions.file} ` +
    "(in Kubernetes, set defaultMode: 0400 on the Secret volume)."
  );
}

function parseKey(content: Buffer, file: string): Buffer {
  // 32 bytes is taken as raw key material as is: raw bytes may legitimately include whitespace.
  if (content.length === keyLength) {
    return Buffer.from(content);
  }
  const text = content.toString("latin1").trim();
  let decoded: Buffer | undefined;
  if (hexPattern.test(text)) {
    decoded = Buffer.from(text, "hex");
  } else if (base64Pattern.test(text)) {
    decoded = Buffer.from(text, "base64");
  } else if (base64UrlPattern.test(text)) {
    decoded = Buffer.from(text, "base64url");
  }
  if (decoded === undefined || decoded.length !== keyLength) {
    decoded?.fill(0);
    throw formatError(file, `${content.length} bytes, not in any accepted format`);
  }
  // A fresh allocation: small Buffers decoded from strings are slices of a shared pool, and the
  // key should not share memory with anything else.
  const key = Buffer.alloc(keyLength);
  decoded.copy(key);
  decoded.fill(0);
  return key;
}

function formatError(file: string, detail: string): GatewayError {
  return new GatewayError(
    "invalid_input",
    `${flag}: ${file} does not hold a 256-bit key. Expected exactly 32 raw bytes, 64 hex characters, ` +
      `or 32 bytes in base64 or base64url; ${howToMakeOne}.`,
    { detail },
  );
}

function errorCode(error: unknown): string {
  if (error instanceof Error && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return "unreadable";
}
