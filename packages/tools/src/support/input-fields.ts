import { z } from "zod";

// Argument schemas shared by the tools, so the same name means the same thing everywhere and
// the model sees one description for it.

// C0 and C1 controls and DEL (`\p{Cc}`), and the Unicode line and paragraph separators. No Kubernetes name,
// selector, version or path holds one; sent anyway, they arrive percent-encoded in a URL (a CR
// or LF in a log line, a NUL in a key). Refused here, before any request is made.
const controlCharacter = /[\p{Cc}\u2028\u2029]/u;

export const controlCharacterMessage =
  "must not contain control characters (CR, LF, NUL, tab, U+2028 and the like): Kubernetes names, selectors and versions never hold them";

/**
 * The string schema for every argument that names something (an object, a container, a
 * cluster, a type, a selector): a string without control characters. Every tool's name-like
 * field starts from here; a test over all tools checks that none skips it.
 */
export function nameText(): z.ZodString {
  return z.string().refine((text) => !controlCharacter.test(text), controlCharacterMessage);
}

export const clusterField = nameText()
  .min(1)
  .max(253)
  .optional()
  .describe("Cluster to use (see k8s_list_contexts). Default: the session's current cluster.");

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const namespaceField = nameText()
  .max(63)
  .regex(dnsLabel, "a namespace is a DNS label: lower-case letters, digits and '-'")
  .optional();

export const optionalNamespaceField = namespaceField.describe(
  'Namespace of the object. Default: "default" (ignored for cluster-scoped resources).',
);

export const resourceField = nameText()
  .min(1)
  .max(253)
  .describe("Resource type: kind, plural, singular or short name (Pod, pods, po), or resource.group for CRDs.");

export const apiVersionField = nameText()
  .min(1)
  .max(253)
  .optional()
  .describe("Pins the API version (apps/v1, v1). Default: the server's preferred version.");

// Kubernetes names never contain '/', so rejecting it here keeps a name from becoming a path.
export const objectNameField = nameText()
  .min(1)
  .max(253)
  .refine((name) => !name.includes("/") && name !== "." && name !== "..", "not a valid object name")
  .describe("Name of the object.");

export const podNameField = objectNameField.describe("Name of the pod.");

export const labelSelectorField = nameText()
  .max(2048)
  .optional()
  .describe("Label selector, as in kubectl -l (app=web,tier!=cache).");

export const fieldSelectorField = nameText()
  .max(2048)
  .optional()
  .describe("Field selector (status.phase=Running, spec.nodeName=node-1).");

export const containerField = nameText()
  .min(1)
  .max(253)
  .optional()
  .describe("Container name. Default: the pod's only or default container.");

export const defaultNamespace = "default";

export const capiClusterField = nameText()
  .min(1)
  .max(253)
  .optional()
  .describe(
    "Cluster API cluster as namespace/name (a bare name if only one cluster has it); see capi_list_clusters. Default: the session's current cluster.",
  );
