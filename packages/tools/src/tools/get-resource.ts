import { defineTool } from "@capi-mcp/core";
import { z } from "zod";
import { toYaml } from "../shaping/yaml.js";
import { objectNamespace, withinBudget } from "../support/answer.js";
import { accessCluster } from "../support/cluster.js";
import {
  apiVersionField,
  clusterField,
  objectNameField,
  optionalNamespaceField,
  resourceField,
} from "../support/input-fields.js";

export const getResourceTool = defineTool({
  name: "k8s_get_resource",
  title: "Get a Kubernetes object",
  description:
    "Returns one object as YAML (without managedFields and the last-applied annotation). Use k8s_describe_resource for a summary with events, k8s_list_resources to find names.",
  operation: "read",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    cluster: clusterField,
    resource: resourceField,
    name: objectNameField,
    namespace: optionalNamespaceField,
    apiVersion: apiVersionField,
  }),
  async handler(input, context) {
    const access = await accessCluster(input.cluster, context);
    const resource = await access.resolve({ resource: input.resource, apiVersion: input.apiVersion });
    const namespace = objectNamespace(resource, input.namespace);
    const object = await access.get(resource, input.name, namespace);
    const text = withinBudget(context, toYaml(object), {
      narrowHint:
        "Use k8s_describe_resource for a summary, or read the object's parts with k8s_list_resources and a fieldSelector.",
    });
    return {
      text,
      structured: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: object.metadata?.name,
        namespace: object.metadata?.namespace,
      },
      target: { cluster: access.cluster, namespace, kind: resource.kind, name: input.name },
    };
  },
});
