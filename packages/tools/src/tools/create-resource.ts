import { defineTool } from "@capi-mcp/core";
import { z } from "zod";
import { toYaml } from "../shaping/yaml.js";
import { describeObject, dryRunHeading, withinBudget } from "../support/answer.js";
import { accessCluster } from "../support/cluster.js";
import { clusterField, namespaceField } from "../support/input-fields.js";
import { manifestField, prepareManifest } from "../support/manifest.js";

export const createResourceTool = defineTool({
  name: "k8s_create_resource",
  title: "Create a Kubernetes object",
  description:
    "Creates one object from a manifest; fails if it already exists (use k8s_apply_resource to create or update). Returns the created object as YAML.",
  operation: "create",
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input: z.object({
    cluster: clusterField,
    manifest: manifestField,
    namespace: namespaceField.describe(
      'Namespace for a namespaced object without metadata.namespace. Default: "default".',
    ),
  }),
  async handler(input, context) {
    const access = await accessCluster(input.cluster, context);
    const prepared = await prepareManifest(access, input.manifest, input.namespace, { requireName: false });
    const dryRun = context.settings.dryRun;
    const created = await access.create(prepared.resource, prepared.object, {
      dryRun,
      namespace: prepared.namespace,
    });
    const name = created.metadata?.name ?? prepared.name ?? "";
    const heading = `${dryRun ? "Would create" : "Created"} ${describeObject(prepared.resource, name, prepared.namespace)}.`;
    const text = withinBudget(context, [...(dryRun ? [dryRunHeading] : []), heading, toYaml(created)].join("\n"), {
      narrowHint: "The object was handled in full; read it back with k8s_describe_resource for a summary.",
    });
    return {
      text,
      dryRun,
      structured: {
        created: !dryRun,
        dryRun,
        kind: prepared.resource.kind,
        name,
        namespace: prepared.namespace ?? null,
      },
      target: { cluster: access.cluster, namespace: prepared.namespace, kind: prepared.resource.kind, name },
    };
  },
});
