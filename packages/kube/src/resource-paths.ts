import { type ApiResource, GatewayError } from "@capi-mcp/core";

/** How errors and messages name a resource: `pods`, `deployments`, `clusters.cluster.x-k8s.io`. */
export function resourceLabel(resource: Pick<ApiResource, "group" | "resource">, subresource?: string): string {
  // Kubernetes' own groups read better bare; a custom group is part of the name users know.
  const builtIn = resource.group === "" || !resource.group.includes(".") || resource.group.endsWith(".k8s.io");
  const base = builtIn ? resource.resource : `${resource.resource}.${resource.group}`;
  return subresource ? `${base}/${subresource}` : base;
}

/**
 * Checks a name or namespace before it becomes a path segment. Encoding handles `/` and `%`;
 * `.` and `..` would still be rewritten by path normalization, and Kubernetes never allows them.
 */
export function pathSegment(what: string, value: string): string {
  if (value.length === 0) throw new GatewayError("invalid_input", `The ${what} is empty.`);
  if (value === "." || value === ".." || value.length > 253) {
    throw new GatewayError("invalid_input", `"${value.slice(0, 60)}" is not a valid ${what}.`);
  }
  return encodeURIComponent(value);
}

/** `/api/v1[/namespaces/<ns>]/<resource>` or `/apis/<group>/<version>[/namespaces/<ns>]/<resource>`. */
export function collectionPath(resource: ApiResource, namespace: string | undefined): string {
  const prefix = resource.group === "" ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
  const scope =
    resource.namespaced && namespace !== undefined ? `/namespaces/${pathSegment("namespace", namespace)}` : "";
  return `${prefix}${scope}/${resource.resource}`;
}

export function objectPath(
  resource: ApiResource,
  name: string,
  namespace: string | undefined,
  subresource?: string,
): string {
  const path = `${collectionPath(resource, namespace)}/${pathSegment("name", name)}`;
  return subresource ? `${path}/${subresource}` : path;
}
