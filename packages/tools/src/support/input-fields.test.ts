import { seededRandom } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import { allTools } from "../all-tools.js";
import { controlCharacterMessage, nameText } from "./input-fields.js";

/** A small seeded generator (mulberry32), so a failure names the seed that reproduces it. */
function generator(seed: number) {
  const next = seededRandom(seed);
  return { integer: (low: number, high: number) => low + Math.floor(next() * (high - low + 1)) };
}

const controlCharacters = ["\r", "\n", "\u0000", "\t", "\u001b", "\u007f", "\u0085", "\u009f", "\u2028", "\u2029"];

/** `text` with one control character put at a generated place. */
function withControlCharacter(text: string, seed: number): string {
  const random = generator(seed);
  const character = controlCharacters[random.integer(0, controlCharacters.length - 1)] ?? "\n";
  const at = random.integer(0, text.length);
  return `${text.slice(0, at)}${character}${text.slice(at)}`;
}

// Arguments whose text is not a name: a command line and its input, a manifest or a patch (text
// that may span lines), and continue tokens (sealed by the paging code, which refuses any token
// that does not open). Every other string argument of every tool is a name, a selector or a
// version and must refuse control characters.
const freeTextArguments = new Set(["command", "stdin", "manifest", "patch", "continue"]);

// Values that some name-like field accepts, tried in turn to find one a field takes.
const acceptedSamples = ["web", "web-1", "app=web", "v1", "org-acme/dev"];

function issuesAt(tool: (typeof allTools)[number], key: string, value: unknown): string[] {
  const parsed = tool.input.safeParse({ [key]: value });
  if (parsed.success) return [];
  return parsed.error.issues.filter((issue) => issue.path[0] === key).map((issue) => issue.message);
}

describe("name-like arguments", () => {
  it("the shared schema refuses every control character with a message that says which rule", () => {
    const schema = nameText();
    for (const character of controlCharacters) {
      const result = schema.safeParse(`web${character}1`);
      expect(result.success, JSON.stringify(character)).toBe(false);
      expect(result.error?.issues[0]?.message).toBe(controlCharacterMessage);
    }
    expect(schema.safeParse("web-1.example_2:a=b").success).toBe(true);
  });

  it("every string argument of every tool, except free text, refuses control characters anywhere", () => {
    const checked: string[] = [];
    for (const tool of allTools) {
      for (const key of Object.keys(tool.input.shape)) {
        for (const wrap of [(text: string) => text, (text: string) => [text]]) {
          const sample = acceptedSamples.find((text) => issuesAt(tool, key, wrap(text)).length === 0);
          if (sample === undefined) continue;
          if (freeTextArguments.has(key)) continue;
          checked.push(`${tool.name}.${key}`);
          for (let seed = 1; seed <= 20; seed += 1) {
            const bad = wrap(withControlCharacter(sample, seed));
            expect(issuesAt(tool, key, bad), `${tool.name}.${key} took ${JSON.stringify(bad)}`).toContain(
              controlCharacterMessage,
            );
          }
        }
      }
    }
    // The probe found the fields it is about; a schema change that hid them would show here.
    for (const field of [
      "k8s_get_resource.name",
      "k8s_get_resource.cluster",
      "k8s_get_pod_logs.container",
      "k8s_list_resources.labelSelector",
      "k8s_list_resources.fieldSelector",
      "k8s_list_resources.clusters",
      "k8s_port_forward_pod.name",
      "k8s_can_i.verb",
      "capi_get_cluster.cluster",
    ]) {
      expect(checked).toContain(field);
    }
  });
});
