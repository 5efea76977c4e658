import { defineTool, GatewayError } from "@capi-mcp/core";
import { z } from "zod";
import { asRecord } from "../shaping/object-fields.js";
import { toYaml } from "../shaping/yaml.js";
import { describeObject, dryRunHeading, objectNamespace, withinBudget } from "../support/answer.js";
import { accessCluster } from "../support/cluster.js";
import {
  apiVersionField,
  clusterField,
  objectNameField,
  optionalNamespaceField,
  resourceField,
} from "../support/input-fields.js";
import { parseStructuredArgument } from "../support/manifest.js";

const jsonPatchOperations = ["add", "remove", "replace", "move", "copy", "test"];

/** Checks the patch's shape against its type before the API server does, with a clearer message. */
export function checkPatch(patch: unknown, patchType: "merge" | "strategic" | "json"): void {
  if (patchType === "json") {
    if (!Array.isArray(patch) || patch.length === 0) {
      throw new GatewayError(
        "invalid_input",
        'A json patch is a non-empty array of operations, for example [{"op":"replace","path":"/spec/replicas","value":3}].',
      );
    }
    patch.forEach((operation, index) => {
      const record = asRecord(operation);
      if (record === undefined || !jsonPatchOperations.includes(String(record.op)) || typeof record.path !== "string") {
        throw new GatewayError(
          "invalid_input",
          `JSON patch operation ${index} needs op (${jsonPatchOperations.join(", ")}) and a path like /spec/replicas.`,
        );
      }
    });
    return;
  }
  if (asRecord(patch) === undefined) {
    throw new GatewayError(
      "invalid_input",
      `A ${patchType} patch is an object with the fields to change, for example {"spec":{"replicas":3}}; use patchType json for a list of operations.`,
    );
  }
}

export const patchResourceTool = defineTool({
  name: "k8s_patch_resource",
  title: "Patch a Kubernetes object",
  description:
    "Changes fields of one object with a merge patch (default), strategic merge patch or JSON patch. Returns the patched object as YAML.",
  operation: "patch",
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  input: z.object({
    cluster: clusterField,
    resource: resourceField,
    name: objectNameField,
    namespace: optionalNamespaceField,
    apiVersion: apiVersionField,
    patch: z
      .union([z.record(z.string(), z.unknown()), z.array(z.unknown()), z.string().min(1).max(1_048_576)])
      .describe("The patch: an object (merge, strategic), an array of operations (json), or either as a JSON string."),
    patchType: z
      .enum(["merge", "strategic", "json"])
      .default("merge")
      .describe("merge (RFC 7386, default), strategic (kubectl's default for built-in types) or json (RFC 6902)."),
  }),
  async handler(input, context) {
    const patch = parseStructuredArgument(input.patch, "patch");
    checkPatch(patch, input.patchType);
    const access = await accessCluster(input.cluster, context);
    const resource = await access.resolve({ resource: input.resource, apiVersion: input.apiVersion });
    const namespace = objectNamespace(resource, input.namespace);
    const dryRun = context.settings.dryRun;
    const patched = await access.patch(resource, input.name, namespace, patch, input.patchType, { dryRun });
    const heading = `${dryRun ? "Would patch" : "Patched"} ${describeObject(resource, input.name, namespace)} (${input.patchType} patch).`;
    const text = withinBudget(context, [...(dryRun ? [dryRunHeading] : []), heading, toYaml(patched)].join("\n"), {
      narrowHint: "The patch was handled in full; read single fields back with k8s_describe_resource.",
    });
    return {
      text,
      dryRun,
      structured: { patched: !dryRun, dryRun, kind: resource.kind, name: input.name, namespace: namespace ?? null },
      target: { cluster: access.cluster, namespace, kind: resource.kind, name: input.name },
    };
  },
});
