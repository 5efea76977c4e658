// The reference docs name every flag and every tool the code has.
import { readFileSync } from "node:fs";
import { optionSpecs } from "@capi-mcp/gateway";
import { allTools } from "@capi-mcp/tools";
import { describe, expect, it } from "vitest";

const read = (file: string) => readFileSync(new URL(`../../docs/${file}`, import.meta.url), "utf8");

describe("the reference documentation", () => {
  it("documents every configuration flag with its environment variable and file key", () => {
    const text = read("configuration.md");
    for (const [key, spec] of Object.entries(optionSpecs)) {
      expect(text, spec.flag).toContain(`\`--${spec.flag}\``);
      expect(text, spec.flag).toContain(`\`CAPI_MCP_${spec.flag.toUpperCase().replaceAll("-", "_")}\``);
      expect(text, spec.flag).toContain(`\`${key}\``);
    }
  });

  it("documents every tool", () => {
    const text = read("tools.md");
    expect(allTools.length).toBeGreaterThan(20);
    for (const tool of allTools) expect(text, tool.name).toContain(`\`${tool.name}\``);
  });
});
