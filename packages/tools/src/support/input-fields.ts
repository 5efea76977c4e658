import { z } from "zod";

// Argument schemas shared by the tools, so the same name means the same thing everywhere and
// the model sees one description for it.

export const clusterField = z
  .string()
  .min(1)
  .max(253)
  .optional()
  .describe("Cluster to use (see k8s_list_contexts). Default: the session's current cluster.");

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const namespaceField = z
  .string()
  .max(63)
  .regex(dnsLabel, "a namespace is a DNS label: lower-case letters, digits and '-'")
  .optional();

export const optionalNamespaceField = namespaceField.describe(
  'Namespace of the object. Default: "default" (ignored for cluster-scoped resources).',
);

export const resourceField = z
  .string()
  .min(1)
  .max(253)
  .describe("Resource type: kind, plural, singular or short name (Pod, pods, po), or resource.group for CRDs.");

export const apiVersionField = z
  .string()
  .min(1)
  .max(253)
  .optional()
  .describe("Pins the API version (apps/v1, v1). Default: the server's preferred version.");

// Kubernetes names never contain '/', so rejecting it here keeps a name from becoming a path.
export const objectNameField = z
  .string()
  .min(1)
  .max(253)
  .refine((name) => !name.includes("/") && name !== "." && name !== "..", "not a valid object name")
  .describe("Name of the object.");

export const podNameField = objectNameField.describe("Name of the pod.");

export const labelSelectorField = z
  .string()
  .max(2048)
  .optional()
  .describe("Label selector, as in kubectl -l (app=web,tier!=cache).");

export const fieldSelectorField = z
  .string()
  .max(2048)
  .optional()
  .describe("Field selector (status.phase=Running, spec.nodeName=node-1).");

export const containerField = z
  .string()
  .min(1)
  .max(253)
  .optional()
  .describe("Container name. Default: the pod's only or default container.");

export const defaultNamespace = "default";

export const capiClusterField = z
  .string()
  .min(1)
  .max(253)
  .optional()
  .describe(
    "Cluster API cluster as namespace/name (a bare name if only one cluster has it); see capi_list_clusters. Default: the session's current cluster.",
  );
