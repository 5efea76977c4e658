import { defineTool } from "@capi-mcp/core";
import { z } from "zod";
import { accessCluster } from "../support/cluster.js";
import { apiVersionField, clusterField, namespaceField, nameText } from "../support/input-fields.js";

export const canITool = defineTool({
  name: "k8s_can_i",
  title: "Check a permission",
  description:
    "Asks the cluster whether you may do something (SelfSubjectAccessReview), like kubectl auth can-i. Omit namespace for all namespaces or cluster-scoped types.",
  operation: "read",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    cluster: clusterField,
    verb: nameText()
      .regex(/^([a-z]+|\*)$/, "a verb is lower-case letters, like get, list, create, delete, or *")
      .describe("get, list, watch, create, update, patch, delete, deletecollection, or *."),
    resource: nameText()
      .min(1)
      .max(253)
      .describe('Resource type (kind, plural, short name, resource.group), or "*" for all.'),
    apiVersion: apiVersionField,
    subresource: nameText().min(1).max(63).optional().describe("A subresource: log, exec, scale, status, portforward."),
    namespace: namespaceField.describe("Namespace to ask about. Omit for all namespaces or cluster-scoped types."),
    name: nameText().min(1).max(253).optional().describe("One object's name, when access is per name."),
  }),
  async handler(input, context) {
    const access = await accessCluster(input.cluster, context);
    const resource =
      input.resource === "*"
        ? undefined
        : await access.resolve({ resource: input.resource, apiVersion: input.apiVersion });
    const group = resource?.group ?? "*";
    const plural = resource?.resource ?? "*";
    // A namespace means nothing for a cluster-scoped type; asking with one would answer the wrong question.
    const namespace = resource === undefined || resource.namespaced ? input.namespace : undefined;
    const answer = await access.canI({
      verb: input.verb,
      group,
      resource: plural,
      subresource: input.subresource,
      namespace,
      name: input.name,
    });
    const what = `${input.verb} ${plural}${input.subresource === undefined ? "" : `/${input.subresource}`}${group === "" || group === "*" ? "" : `.${group}`}${input.name === undefined ? "" : ` "${input.name}"`}`;
    const scope =
      resource !== undefined && !resource.namespaced
        ? "(cluster-scoped)"
        : namespace === undefined
          ? "in all namespaces"
          : `in namespace ${namespace}`;
    const verdict = answer.allowed ? "yes" : "no";
    const reason = answer.reason === undefined || answer.reason === "" ? "" : ` Reason: ${answer.reason}`;
    return {
      text: `${verdict}: you ${answer.allowed ? "may" : "may not"} ${what} ${scope} on cluster ${access.cluster}.${reason}`,
      structured: { allowed: answer.allowed, denied: answer.denied ?? false, reason: answer.reason ?? null },
      target: { cluster: access.cluster, namespace, kind: resource?.kind },
    };
  },
});
