import { defineTool, GatewayError } from "@capi-mcp/core";
import { z } from "zod";
import { numberAt } from "../shaping/object-fields.js";
import { describeObject, dryRunHeading, objectNamespace } from "../support/answer.js";
import { accessCluster } from "../support/cluster.js";
import {
  apiVersionField,
  clusterField,
  objectNameField,
  optionalNamespaceField,
  resourceField,
} from "../support/input-fields.js";

// A typo guard, not a capacity limit: scaling past this is rare enough to do with a patch.
export const maximumReplicas = 1000;

export const scaleResourceTool = defineTool({
  name: "k8s_scale_resource",
  title: "Scale a workload",
  description:
    "Sets the replica count of a deployment, replicaset, statefulset or any resource with a scale subresource.",
  operation: "scale",
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  input: z.object({
    cluster: clusterField,
    resource: resourceField,
    name: objectNameField,
    namespace: optionalNamespaceField,
    apiVersion: apiVersionField,
    replicas: z
      .number()
      .int()
      .min(0)
      .max(maximumReplicas)
      .describe(`Desired replicas (0 to ${maximumReplicas}; 0 stops all pods).`),
  }),
  async handler(input, context) {
    const access = await accessCluster(input.cluster, context);
    const resource = await access.resolve({ resource: input.resource, apiVersion: input.apiVersion });
    if (!resource.subresources.includes("scale")) {
      throw new GatewayError(
        "invalid_input",
        `${resource.resource} cannot be scaled (no scale subresource). Scale deployments, replicasets, statefulsets, or a custom resource that has one.`,
      );
    }
    const namespace = objectNamespace(resource, input.namespace) ?? "";
    const dryRun = context.settings.dryRun;
    const scale = await access.scale(resource, input.name, namespace, input.replicas, { dryRun });
    const current = numberAt(scale, "status.replicas");
    const what = describeObject(resource, input.name, resource.namespaced ? namespace : undefined);
    const lines = [
      ...(dryRun ? [dryRunHeading] : []),
      `${dryRun ? "Would scale" : "Scaled"} ${what} to ${input.replicas} replicas.`,
      ...(current === undefined
        ? []
        : [`It currently runs ${current}; follow the rollout with k8s_describe_resource.`]),
    ];
    return {
      text: lines.join("\n"),
      dryRun,
      structured: {
        dryRun,
        kind: resource.kind,
        name: input.name,
        replicas: input.replicas,
        currentReplicas: current ?? null,
      },
      target: {
        cluster: access.cluster,
        namespace: resource.namespaced ? namespace : undefined,
        kind: resource.kind,
        name: input.name,
      },
    };
  },
});
