import { defineTool } from "@capi-mcp/core";
import { z } from "zod";
import { toYaml } from "../shaping/yaml.js";
import { describeObject, dryRunHeading, withinBudget } from "../support/answer.js";
import { accessCluster } from "../support/cluster.js";
import { clusterField, namespaceField } from "../support/input-fields.js";
import { manifestField, prepareManifest } from "../support/manifest.js";

export const applyResourceTool = defineTool({
  name: "k8s_apply_resource",
  title: "Apply a Kubernetes object (server-side apply)",
  description:
    "Creates or updates one object with server-side apply (field manager capi-mcp). Set force to take over fields another manager owns. Returns the resulting object as YAML.",
  operation: "apply",
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  input: z.object({
    cluster: clusterField,
    manifest: manifestField,
    namespace: namespaceField.describe(
      'Namespace for a namespaced object without metadata.namespace. Default: "default".',
    ),
    force: z
      .boolean()
      .default(false)
      .describe("Take ownership of fields other managers own, instead of failing with a conflict."),
  }),
  async handler(input, context) {
    const access = await accessCluster(input.cluster, context);
    const prepared = await prepareManifest(access, input.manifest, input.namespace, { requireName: true });
    const dryRun = context.settings.dryRun;
    const applied = await access.apply(prepared.resource, prepared.object, {
      dryRun,
      namespace: prepared.namespace,
      force: input.force,
    });
    const name = applied.metadata?.name ?? prepared.name ?? "";
    const heading = `${dryRun ? "Would apply" : "Applied"} ${describeObject(prepared.resource, name, prepared.namespace)}${input.force ? " (forced: conflicting fields taken over)" : ""}.`;
    const text = withinBudget(context, [...(dryRun ? [dryRunHeading] : []), heading, toYaml(applied)].join("\n"), {
      narrowHint: "The object was handled in full; read it back with k8s_describe_resource for a summary.",
    });
    return {
      text,
      dryRun,
      structured: {
        applied: !dryRun,
        dryRun,
        kind: prepared.resource.kind,
        name,
        namespace: prepared.namespace ?? null,
      },
      target: { cluster: access.cluster, namespace: prepared.namespace, kind: prepared.resource.kind, name },
    };
  },
});
