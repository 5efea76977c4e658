import { defineTool, type ExecResult } from "@capi-mcp/core";
import { z } from "zod";
import { withinBudget } from "../support/answer.js";
import { accessCluster } from "../support/cluster.js";
import {
  clusterField,
  containerField,
  defaultNamespace,
  optionalNamespaceField,
  podNameField,
} from "../support/input-fields.js";

/** Quotes a command for display the way a POSIX shell would need it, so the line reads unambiguously. */
function displayCommand(command: readonly string[]): string {
  return command.map((part) => (/^[\w@%+=:,./-]+$/.test(part) ? part : `'${part.replaceAll("'", "'\\''")}'`)).join(" ");
}

function exitLine(result: ExecResult): string {
  if (result.timedOut) return "Exit code: none (timed out; the command was stopped)";
  if (result.exitCode === undefined) return "Exit code: none (the command did not report one)";
  if (result.exitCode === 0) return "Exit code: 0 (success)";
  return `Exit code: ${result.exitCode} (non-zero: the command ran and reported failure; see stderr)`;
}

export const execPodTool = defineTool({
  name: "k8s_exec_pod",
  title: "Run a command in a pod",
  description:
    'Runs a command in a container (no shell unless you run one: ["sh","-c","..."]) and returns exit code, stdout and stderr. Bounded in time and output.',
  operation: "exec",
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  input: z.object({
    cluster: clusterField,
    name: podNameField,
    namespace: optionalNamespaceField,
    container: containerField,
    command: z
      .array(z.string().max(65_536))
      .min(1)
      .max(256)
      .refine((command) => (command[0] ?? "") !== "", "the first element (the program) must not be empty")
      .describe('The program and its arguments as an array, e.g. ["ls","-la","/tmp"]. Not a shell string.'),
    stdin: z.string().max(1_048_576).optional().describe("Text sent to the command's standard input."),
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .optional()
      .describe("Stop the command after this many seconds (capped by the server's limit)."),
  }),
  async handler(input, context) {
    const access = await accessCluster(input.cluster, context);
    const namespace = input.namespace ?? defaultNamespace;
    const serverLimit = context.settings.execTimeoutMilliseconds;
    const timeoutMilliseconds =
      input.timeoutSeconds === undefined ? serverLimit : Math.min(input.timeoutSeconds * 1000, serverLimit);
    const result = await access.exec({
      namespace,
      pod: input.name,
      container: input.container,
      command: input.command,
      stdin: input.stdin,
      timeoutMilliseconds,
      maxOutputBytes: context.settings.execMaxOutputBytes,
    });
    const header = [
      `Ran in pod ${namespace}/${input.name}${input.container === undefined ? "" : `, container ${input.container}`}: ${displayCommand(input.command)}`,
      exitLine(result),
      ...(result.failure === undefined ? [] : [`The command could not run as asked: ${result.failure}`]),
      ...(result.timedOut ? [`Timed out after ${timeoutMilliseconds / 1000}s.`] : []),
      ...(result.truncated
        ? [`Output truncated at ${context.settings.execMaxOutputBytes} bytes: print less (head, grep, wc) or redirect.`]
        : []),
    ];
    const stream = (name: string, text: string): string =>
      `--- ${name} ---\n${text === "" ? "(empty)" : text.replace(/\n$/, "")}`;
    const body = [stream("stdout", result.stdout), stream("stderr", result.stderr), "--- end ---"].join("\n");
    const text = withinBudget(context, `${header.join("\n")}\n${body}`, {
      narrowHint: "Make the command print less (head, tail, grep, wc -l).",
    });
    return {
      text,
      structured: {
        exitCode: result.exitCode ?? null,
        timedOut: result.timedOut,
        truncated: result.truncated,
        failure: result.failure ?? null,
      },
      target: { cluster: access.cluster, namespace, kind: "Pod", name: input.name },
    };
  },
});
