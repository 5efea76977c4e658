import { defineTool } from "@capi-mcp/core";
import { z } from "zod";
import { asArray } from "../shaping/object-fields.js";
import { describeObject, dryRunHeading, objectNamespace } from "../support/answer.js";
import { accessCluster } from "../support/cluster.js";
import {
  apiVersionField,
  clusterField,
  objectNameField,
  optionalNamespaceField,
  resourceField,
} from "../support/input-fields.js";

export const deleteResourceTool = defineTool({
  name: "k8s_delete_resource",
  title: "Delete a Kubernetes object",
  description:
    "Deletes one object by type and name. Dependents are deleted in the background unless propagationPolicy says otherwise.",
  operation: "delete",
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  input: z.object({
    cluster: clusterField,
    resource: resourceField,
    name: objectNameField,
    namespace: optionalNamespaceField,
    apiVersion: apiVersionField,
    propagationPolicy: z
      .enum(["Foreground", "Background", "Orphan"])
      .optional()
      .describe("What happens to dependents: Background (default), Foreground (wait for them) or Orphan (keep them)."),
    gracePeriodSeconds: z
      .number()
      .int()
      .min(0)
      .max(86_400)
      .optional()
      .describe("Seconds to let pods shut down; 0 deletes at once. Default: the object's own setting."),
  }),
  async handler(input, context) {
    const access = await accessCluster(input.cluster, context);
    const resource = await access.resolve({ resource: input.resource, apiVersion: input.apiVersion });
    const namespace = objectNamespace(resource, input.namespace);
    const dryRun = context.settings.dryRun;
    const result = await access.delete(resource, input.name, namespace, {
      dryRun,
      propagationPolicy: input.propagationPolicy,
      gracePeriodSeconds: input.gracePeriodSeconds,
    });
    const what = describeObject(resource, input.name, namespace);
    const lines = dryRun ? [dryRunHeading, `Would delete ${what}.`] : [`Deleted ${what}.`];
    // The API answers with the object itself while finalizers hold it; say why it still exists.
    const finalizers = asArray(result.metadata?.finalizers).filter((entry) => typeof entry === "string");
    if (!dryRun && result.kind !== "Status" && finalizers.length > 0) {
      lines.push(`It stays (marked for deletion) until these finalizers finish: ${finalizers.join(", ")}.`);
    }
    if (input.propagationPolicy !== undefined) lines.push(`Dependents: ${input.propagationPolicy}.`);
    return {
      text: lines.join("\n"),
      dryRun,
      structured: {
        deleted: !dryRun,
        dryRun,
        kind: resource.kind,
        name: input.name,
        namespace: namespace ?? null,
        finalizers,
      },
      target: { cluster: access.cluster, namespace, kind: resource.kind, name: input.name },
    };
  },
});
