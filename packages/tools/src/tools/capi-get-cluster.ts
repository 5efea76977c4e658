import { defineTool } from "@capi-mcp/core";
import { z } from "zod";
import { kubeconfigSecretName, servedCapiVersion } from "../shaping/capi-cluster.js";
import { toYaml } from "../shaping/yaml.js";
import { withinBudget } from "../support/answer.js";
import { resolveCapiCluster } from "../support/cluster-names.js";
import { capiClusterField } from "../support/input-fields.js";

export const capiGetClusterTool = defineTool({
  name: "capi_get_cluster",
  title: "Get a Cluster API cluster",
  description:
    "Shows one Cluster API Cluster object as YAML (without managedFields) and names its kubeconfig secret (never its contents). capi_cluster_health summarises its conditions.",
  operation: "read",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({ cluster: capiClusterField }),
  async handler(input, context) {
    const summary = await resolveCapiCluster(input.cluster, context);
    const object = summary.clusterObject;
    const namespace = object.metadata?.namespace;
    const name = object.metadata?.name;
    const secret = kubeconfigSecretName(name ?? summary.name.split("/").at(-1) ?? summary.name);
    const footer = [
      `Cluster ${summary.name}, served as ${object.apiVersion ?? `cluster.x-k8s.io/${servedCapiVersion(object)}`}.`,
      `Kubeconfig secret: ${namespace === undefined ? secret : `${namespace}/${secret}`} (key "value"; its contents are never shown). Pass cluster: "${summary.name}" to the k8s_* tools to work on this cluster.`,
    ].join("\n");
    const text = withinBudget(context, toYaml(object), {
      footer,
      narrowHint: "capi_cluster_health gives the conditions and replica counts in a few lines.",
    });
    return {
      text,
      structured: {
        cluster: summary.name,
        apiVersion: object.apiVersion ?? null,
        kubeconfigSecret: secret,
      },
      target: { cluster: summary.name, namespace, kind: "Cluster", name },
    };
  },
});
