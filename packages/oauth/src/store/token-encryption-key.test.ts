import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GatewayError } from "@capi-mcp/core";
import { afterAll, describe, expect, it } from "vitest";
import { loadTokenEncryptionKey, permissionProblem } from "./token-encryption-key.js";

const directory = mkdtempSync(join(tmpdir(), "capi-mcp-key-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

let fileCount = 0;
function keyFile(content: string | Buffer, mode = 0o600): string {
  fileCount += 1;
  const file = join(directory, `key-${fileCount}`);
  writeFileSync(file, content);
  chmodSync(file, mode);
  return file;
}

function refusal(file: string): GatewayError {
  try {
    loadTokenEncryptionKey(file);
  } catch (error) {
    if (error instanceof GatewayError) {
      return error;
    }
    throw error;
  }
  throw new Error("the key file was accepted");
}

/** The error must never carry the key material, in any of its spellings. */
function expectNoKeyMaterial(error: GatewayError, secrets: readonly string[]): void {
  for (const secret of secrets) {
    expect(error.message).not.toContain(secret);
    expect(error.detail ?? "").not.toContain(secret);
  }
}

describe("loading the token encryption key", () => {
  const key = randomBytes(32);

  it("accepts exactly 32 raw bytes, whatever they are", () => {
    const whitespaceKey = Buffer.alloc(32, 0x20);
    whitespaceKey[0] = 0x0a;
    expect(loadTokenEncryptionKey(keyFile(key)).equals(key)).toBe(true);
    expect(loadTokenEncryptionKey(keyFile(whitespaceKey)).equals(whitespaceKey)).toBe(true);
  });

  it("accepts 64 hex characters in either case, with surrounding whitespace", () => {
    expect(loadTokenEncryptionKey(keyFile(`${key.toString("hex")}\n`)).equals(key)).toBe(true);
    expect(loadTokenEncryptionKey(keyFile(`  ${key.toString("hex").toUpperCase()}\r\n`)).equals(key)).toBe(true);
  });

  it("accepts base64 as openssl rand -base64 32 writes it, and without padding", () => {
    const padded = key.toString("base64");
    expect(padded).toHaveLength(44);
    expect(loadTokenEncryptionKey(keyFile(`${padded}\n`)).equals(key)).toBe(true);
    expect(loadTokenEncryptionKey(keyFile(padded.replace(/=$/, ""))).equals(key)).toBe(true);
  });

  it("accepts base64url", () => {
    // A key whose base64 has both + and /, so base64url differs from it.
    const awkward = Buffer.from(`fb${"ff".repeat(30)}bf`, "hex");
    expect(awkward.toString("base64url")).toMatch(/[-_]/);
    expect(loadTokenEncryptionKey(keyFile(`${awkward.toString("base64url")}\n`)).equals(awkward)).toBe(true);
  });

  it("refuses anything that is not a 256-bit key, saying what is expected and how to make one", () => {
    const hex = key.toString("hex");
    const base64 = key.toString("base64");
    const contents: (string | Buffer)[] = [
      "",
      "\n",
      key.subarray(0, 31),
      Buffer.concat([key, Buffer.from([0])]),
      hex.slice(0, 62),
      `${hex}00`,
      randomBytes(31).toString("base64"),
      randomBytes(33).toString("base64"),
      "correct horse battery staple, a passphrase",
      `${base64}\n${base64}`,
      "x".repeat(5000),
    ];
    for (const content of contents) {
      const error = refusal(keyFile(content));
      expect(error.code).toBe("invalid_input");
      expect(error.message).toMatch(/^--token-encryption-key-file: .* does not hold a 256-bit key\./);
      expect(error.message).toContain("Expected exactly 32 raw bytes, 64 hex characters, or 32 bytes in base64");
      expect(error.message).toContain("openssl rand -base64 32");
      expectNoKeyMaterial(error, [hex, hex.slice(0, 62), base64, "correct horse", "xxxxxxxx"]);
    }
  });

  it("refuses a file group or others can read (0644), naming the fix and not the key", () => {
    const file = keyFile(`${key.toString("base64")}\n`, 0o644);
    const error = refusal(file);
    expect(error.code).toBe("invalid_input");
    expect(error.message).toContain("(mode 0644)");
    expect(error.message).toContain(`chmod 600 ${file}`);
    expectNoKeyMaterial(error, [key.toString("base64"), key.toString("hex")]);
  });

  it("refuses a group-readable file (0640) owned by the gateway's own user", () => {
    const error = refusal(keyFile(key, 0o640));
    expect(error.message).toContain("accessible to group or others (mode 0640)");
  });

  it("accepts a file only its owner can read (0400)", () => {
    expect(loadTokenEncryptionKey(keyFile(key, 0o400)).equals(key)).toBe(true);
  });

  it.skipIf(process.geteuid?.() !== 0)("refuses a file owned by another, non-root user", () => {
    const file = keyFile(key);
    chownSync(file, 65534, 65534);
    const error = refusal(file);
    expect(error.message).toContain("is owned by user 65534");
  });

  it("refuses a missing file and a directory, naming the file", () => {
    const missing = join(directory, "missing.key");
    expect(refusal(missing).message).toBe(`--token-encryption-key-file: cannot open ${missing} (ENOENT).`);
    expect(refusal(directory).message).toContain(`${directory} is not a regular file`);
  });
});

describe("key file permission rules", () => {
  const file = "/etc/capi-mcp/key";

  it("allows the gateway's own file at 0600 or less, and nothing more", () => {
    for (const mode of [0o600, 0o400, 0o100600]) {
      expect(permissionProblem({ mode, ownerUid: 1000, processUid: 1000, file })).toBeUndefined();
    }
    for (const mode of [0o640, 0o604, 0o610, 0o620, 0o602, 0o644]) {
      expect(permissionProblem({ mode, ownerUid: 1000, processUid: 1000, file })).toContain(
        "chmod 600 /etc/capi-mcp/key",
      );
    }
  });

  it("allows a root-owned file readable by its group, as Kubernetes mounts a Secret with an fsGroup", () => {
    expect(permissionProblem({ mode: 0o440, ownerUid: 0, processUid: 65532, file })).toBeUndefined();
    expect(permissionProblem({ mode: 0o640, ownerUid: 0, processUid: 65532, file })).toBeUndefined();
    for (const mode of [0o644, 0o660, 0o444, 0o650]) {
      expect(permissionProblem({ mode, ownerUid: 0, processUid: 65532, file })).toContain("defaultMode: 0400");
    }
  });

  it("holds a gateway running as root to the owner-only rule", () => {
    expect(permissionProblem({ mode: 0o440, ownerUid: 0, processUid: 0, file })).toContain("(mode 0440)");
  });

  it("refuses a file owned by another user, whatever its mode", () => {
    expect(permissionProblem({ mode: 0o400, ownerUid: 1001, processUid: 1000, file })).toContain(
      "chown 1000 /etc/capi-mcp/key",
    );
  });
});
