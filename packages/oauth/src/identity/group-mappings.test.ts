import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { GatewayError } from "@capi-mcp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadGroupMappings, parseGroupMappings } from "./group-mappings.js";

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "capi-mcp-group-mappings-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function refusal(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof GatewayError)) throw new Error("expected a GatewayError");
  return error;
}

function parseRefusal(text: string): GatewayError {
  try {
    parseGroupMappings(text, "mappings.json");
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("parseGroupMappings", () => {
  it("reads identity-provider groups mapped to lists of Kubernetes groups", () => {
    expect(
      parseGroupMappings('{"globex-admins": ["globex-admins", "org-globex-viewers"], "everyone": []}', "f"),
    ).toEqual({ "globex-admins": ["globex-admins", "org-globex-viewers"], everyone: [] });
  });

  it("keeps a key named __proto__ as an ordinary key", () => {
    const mappings = parseGroupMappings('{"__proto__": ["admins"]}', "f");
    expect(Object.hasOwn(mappings, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(mappings)).toBe(Object.prototype);
  });

  it("removes duplicate targets and freezes the result", () => {
    const mappings = parseGroupMappings('{"a": ["b", "b"]}', "f");
    expect(mappings.a).toEqual(["b"]);
    expect(Object.isFrozen(mappings)).toBe(true);
  });

  it("refuses text that is not JSON and says that only JSON is supported", () => {
    const error = parseRefusal("globex-admins:\n  - globex-admins\n");
    expect(error.code).toBe("invalid_input");
    expect(error.message).toContain("only JSON is supported");
    expect(error.message).toContain("YAML is not");
  });

  it("refuses a JSON array or a plain value", () => {
    expect(parseRefusal('["a"]').message).toContain("must be a JSON object");
    expect(parseRefusal("null").message).toContain("must be a JSON object");
  });

  it("refuses a value that is not a list of names", () => {
    expect(parseRefusal('{"a": "b"}').message).toContain('the value for "a" must be a list of group names');
    expect(parseRefusal('{"a": [1]}').message).toContain('the value for "a" must be a list of group names');
  });

  it("refuses a mapping to a system: group", () => {
    expect(parseRefusal('{"admins": ["system:masters"]}').message).toContain(
      'the Kubernetes group for "admins" "system:masters" begins with the reserved prefix system:',
    );
  });

  it("refuses a mapping from a system: group, which could never be used", () => {
    expect(parseRefusal('{"system:masters": ["admins"]}').message).toContain("reserved prefix system:");
  });

  it("refuses header-unsafe names without echoing them", () => {
    const error = parseRefusal('{"a": ["b\\r\\nX-Evil: 1"]}');
    expect(error.message).toContain("contains a control character or line break");
    expect(error.message).not.toContain("X-Evil");
  });

  it("refuses empty and overlong names", () => {
    expect(parseRefusal('{"": ["b"]}').message).toContain("is empty");
    expect(parseRefusal(JSON.stringify({ a: ["b".repeat(257)] })).message).toContain("is too long");
  });
});

describe("loadGroupMappings", () => {
  it("reads a JSON file", async () => {
    const file = path.join(directory, "mappings.json");
    await writeFile(file, '{"globex-admins": ["globex-admins", "org-globex-viewers"]}');
    expect(await loadGroupMappings(file)).toEqual({ "globex-admins": ["globex-admins", "org-globex-viewers"] });
  });

  it("refuses a .yaml or .yml file, saying that YAML is not supported", async () => {
    for (const name of ["mappings.yaml", "mappings.YML"]) {
      const file = path.join(directory, name);
      await writeFile(file, "a: [b]\n");
      const error = await refusal(loadGroupMappings(file));
      expect(error.code).toBe("invalid_input");
      expect(error.message).toContain("YAML is not supported; write the mappings as JSON");
    }
  });

  it("names the file and the reason when it cannot be read", async () => {
    const file = path.join(directory, "missing.json");
    const error = await refusal(loadGroupMappings(file));
    expect(error.message).toBe(`The group mappings file ${file} is not usable: it cannot be read (ENOENT).`);
  });

  it("refuses a file larger than 1 MiB", async () => {
    const file = path.join(directory, "huge.json");
    await writeFile(file, `{"a": ["b"], "pad": "${"x".repeat(1024 * 1024)}"}`);
    expect((await refusal(loadGroupMappings(file))).message).toContain("larger than 1 MiB");
  });
});
