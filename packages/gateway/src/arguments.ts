import { GatewayError } from "@capi-mcp/core";
import { type OptionName, optionSpecs } from "./option-specs.js";

export interface ParsedArguments {
  readonly command: "serve" | "version" | "help";
  readonly flags: Partial<Record<OptionName, string | boolean>>;
  readonly configFile?: string;
}

const byFlag = new Map<string, OptionName>(
  Object.entries(optionSpecs).map(([name, spec]): [string, OptionName] => [spec.flag, name as OptionName]),
);

function closestFlag(unknown: string): string | undefined {
  const candidates = [...byFlag.keys(), "config", "help"];
  const distance = (left: string, right: string) => {
    const row = Array.from({ length: right.length + 1 }, (_, index) => index);
    for (let i = 1; i <= left.length; i += 1) {
      let previous = row[0] ?? 0;
      row[0] = i;
      for (let j = 1; j <= right.length; j += 1) {
        const current = row[j] ?? 0;
        row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, previous + (left[i - 1] === right[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return row[right.length] ?? Number.POSITIVE_INFINITY;
  };
  const best = candidates
    .map((candidate) => ({ candidate, score: distance(unknown, candidate) }))
    .sort((a, b) => a.score - b.score)[0];
  return best && best.score <= 3 ? best.candidate : undefined;
}

/** Parses `capi-mcp <command> [--flag value | --flag=value | --boolean[=true|false]]`. */
export function parseArguments(argv: readonly string[]): ParsedArguments {
  const flags: Partial<Record<OptionName, string | boolean>> = {};
  let configFile: string | undefined;
  let command: ParsedArguments["command"] | undefined;
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index] ?? "";
    if (argument === "--help" || argument === "-h" || argument === "help") {
      return { command: "help", flags };
    }
    if (!argument.startsWith("--")) {
      if (command !== undefined)
        throw new GatewayError("invalid_input", `Unexpected argument "${argument}". See capi-mcp --help.`);
      if (argument !== "serve" && argument !== "version") {
        throw new GatewayError(
          "invalid_input",
          `Unknown command "${argument}": use serve or version. See capi-mcp --help.`,
        );
      }
      command = argument;
      continue;
    }
    const [flag = "", inlineValue] = argument.slice(2).split(/=(.*)/s, 2);
    const takeValue = (): string => {
      if (inlineValue !== undefined) return inlineValue;
      const next = argv[index + 1];
      if (next === undefined || next.startsWith("--"))
        throw new GatewayError("invalid_input", `--${flag} needs a value.`);
      index += 1;
      return next;
    };
    if (flag === "config") {
      configFile = takeValue();
      continue;
    }
    const name = byFlag.get(flag);
    if (!name) {
      const suggestion = closestFlag(flag);
      throw new GatewayError(
        "invalid_input",
        `Unknown option --${flag}.${suggestion ? ` Did you mean --${suggestion}?` : ""} See capi-mcp --help.`,
      );
    }
    flags[name] = optionSpecs[name].kind === "boolean" ? (inlineValue ?? true) : takeValue();
  }
  return { command: command ?? "serve", flags, ...(configFile ? { configFile } : {}) };
}
