import { defineTool } from "@capi-mcp/core";
import { z } from "zod";
import { byteLength } from "../shaping/budget.js";
import { withinBudget } from "../support/answer.js";
import { accessCluster } from "../support/cluster.js";
import {
  clusterField,
  containerField,
  defaultNamespace,
  optionalNamespaceField,
  podNameField,
} from "../support/input-fields.js";

export const maximumTailLines = 10_000;

const narrowHint = "Ask for less: a smaller tailLines, a sinceSeconds window, or one container.";

export const getPodLogsTool = defineTool({
  name: "k8s_get_pod_logs",
  title: "Get pod logs",
  description:
    "Returns the last lines of a container's log (bounded in size). Use previous for the crashed instance of a restarting container.",
  operation: "read",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    cluster: clusterField,
    name: podNameField,
    namespace: optionalNamespaceField,
    container: containerField,
    previous: z.boolean().default(false).describe("Logs of the previous, terminated instance of the container."),
    tailLines: z
      .number()
      .int()
      .min(1)
      .max(maximumTailLines)
      .optional()
      .describe("Number of lines from the end. Default: set by the server (typically a few hundred)."),
    sinceSeconds: z.number().int().min(1).optional().describe("Only lines from the last N seconds."),
    timestamps: z.boolean().default(false).describe("Prefix each line with its RFC 3339 timestamp."),
  }),
  async handler(input, context) {
    const access = await accessCluster(input.cluster, context);
    const namespace = input.namespace ?? defaultNamespace;
    const tailLines = input.tailLines ?? context.settings.logDefaultTailLines;
    const result = await access.logs({
      namespace,
      pod: input.name,
      container: input.container,
      previous: input.previous,
      tailLines,
      sinceSeconds: input.sinceSeconds,
      timestamps: input.timestamps,
      limitBytes: context.settings.logMaxBytes,
    });
    const source = `pod ${namespace}/${input.name}${input.container === undefined ? "" : `, container ${input.container}`}${input.previous ? " (previous instance)" : ""}`;
    const window = `last ${tailLines} lines${input.sinceSeconds === undefined ? "" : ` within ${input.sinceSeconds}s`}`;
    const logText = result.text.replace(/\n$/, "");
    const lineCount = logText === "" ? 0 : logText.split("\n").length;
    const footerLines = [`${lineCount} log lines from ${source} (${window}).`];
    if (result.truncated) {
      footerLines.push(
        `[Truncated: the log was cut at ${context.settings.logMaxBytes} bytes (the server's log limit). ${narrowHint}]`,
      );
    }
    const body = logText === "" ? "(no log lines)" : logText;
    const text = withinBudget(context, body, { footer: footerLines.join("\n"), narrowHint });
    return {
      text,
      structured: { lines: lineCount, bytes: byteLength(result.text), truncated: result.truncated, tailLines },
      target: { cluster: access.cluster, namespace, kind: "Pod", name: input.name },
    };
  },
});
