import type { KubeObject } from "@capi-mcp/core";
import { stringify } from "yaml";

export const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

/**
 * A copy of the object without what only machines read: `metadata.managedFields` (often half
 * an object's size) and the last-applied annotation (a second, full copy of the object that
 * can hold values the guard redacts elsewhere). The input is not changed.
 */
export function stripForDisplay(object: KubeObject): KubeObject {
  const metadata = object.metadata;
  if (metadata === undefined) return { ...object };
  const { managedFields: _managedFields, annotations, ...restOfMetadata } = metadata;
  const stripped: KubeObject = { ...object, metadata: restOfMetadata };
  if (annotations !== undefined) {
    const { [lastAppliedAnnotation]: _lastApplied, ...otherAnnotations } = annotations;
    if (Object.keys(otherAnnotations).length > 0 && stripped.metadata !== undefined) {
      stripped.metadata.annotations = otherAnnotations;
    }
  }
  return stripped;
}

/**
 * YAML for a model: stripped as above, long strings never folded (folding changes how a
 * value reads), and no anchors or aliases even when the same value appears twice.
 */
export function toYaml(object: KubeObject): string {
  return stringify(stripForDisplay(object), { lineWidth: 0, aliasDuplicateObjects: false }).trimEnd();
}

/** What separates the documents of a multi-document YAML stream. */
export const yamlDocumentSeparator = "\n---\n";

/** Several objects as one multi-document YAML stream. */
export function toYamlDocuments(objects: readonly KubeObject[]): string {
  return objects.map((object) => toYaml(object)).join(yamlDocumentSeparator);
}

/** Any value (a spec, a status) as YAML, with the same settings as `toYaml`. */
export function valueToYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0, aliasDuplicateObjects: false }).trimEnd();
}
