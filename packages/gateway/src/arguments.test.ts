import { describe, expect, it } from "vitest";
import { parseArguments } from "./arguments.js";

describe("command-line arguments", () => {
  it("reads a command, valued flags in both forms, and bare and explicit booleans", () => {
    expect(
      parseArguments([
        "serve",
        "--transport",
        "streamable-http",
        "--http-addr=127.0.0.1:9000",
        "--dry-run",
        "--non-destructive=false",
      ]),
    ).toEqual({
      command: "serve",
      flags: { transport: "streamable-http", httpAddr: "127.0.0.1:9000", dryRun: true, nonDestructive: "false" },
    });
  });

  it("defaults to serve, and knows help and version", () => {
    expect(parseArguments([]).command).toBe("serve");
    expect(parseArguments(["--help"]).command).toBe("help");
    expect(parseArguments(["version"]).command).toBe("version");
  });

  it("takes --config as the file to read", () => {
    expect(parseArguments(["serve", "--config", "/etc/capi-mcp.yaml"]).configFile).toBe("/etc/capi-mcp.yaml");
  });

  it("suggests the flag the user probably meant", () => {
    expect(() => parseArguments(["serve", "--kubeconfg", "x"])).toThrow(
      "Unknown option --kubeconfg. Did you mean --kubeconfig?",
    );
  });

  it("refuses a valued flag without a value and an unknown command", () => {
    expect(() => parseArguments(["serve", "--context"])).toThrow("--context needs a value.");
    expect(() => parseArguments(["launch"])).toThrow('Unknown command "launch"');
  });
});
