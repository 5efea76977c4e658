import { type ApiResource, apiVersionOf, GatewayError, type ResourceQuery } from "@capi-mcp/core";

/** `/api/v1` or `/apis/<group>/<version>`: one group version's resource list. */
export interface ApiResourceListDocument {
  readonly groupVersion: string;
  readonly resources: readonly {
    readonly name: string;
    readonly singularName?: string;
    readonly namespaced: boolean;
    readonly kind: string;
    readonly verbs?: readonly string[];
    readonly shortNames?: readonly string[];
    readonly categories?: readonly string[];
  }[];
}

/** One API group with its served versions, preferred first. */
export interface DiscoveredGroup {
  readonly name: string;
  readonly versions: readonly string[];
}

/** Everything discovery found, in kubectl's priority order. */
export interface DiscoveryDocument {
  /** Groups in priority order: the core group (`""`) first, then `/apis` order (built-ins before CRDs). */
  readonly groups: readonly DiscoveredGroup[];
  /** Every resource in every served version. */
  readonly all: readonly ApiResource[];
  /** One entry per group and resource, in the group's preferred version where it is served. */
  readonly preferred: readonly ApiResource[];
  /** Group versions whose resource list could not be read (an aggregated API that is down). */
  readonly failedGroupVersions: readonly string[];
}

function splitGroupVersion(groupVersion: string): { group: string; version: string } {
  const index = groupVersion.indexOf("/");
  return index < 0
    ? { group: "", version: groupVersion }
    : { group: groupVersion.slice(0, index), version: groupVersion.slice(index + 1) };
}

/** The resources of one group version, subresources folded into their parents. */
export function resourcesOf(document: ApiResourceListDocument): ApiResource[] {
  const { group, version } = splitGroupVersion(document.groupVersion);
  const subresources = new Map<string, string[]>();
  for (const entry of document.resources) {
    const slash = entry.name.indexOf("/");
    if (slash < 0) continue;
    const parent = entry.name.slice(0, slash);
    const list = subresources.get(parent) ?? [];
    list.push(entry.name.slice(slash + 1));
    subresources.set(parent, list);
  }
  return document.resources
    .filter((entry) => !entry.name.includes("/"))
    .map((entry) => ({
      group,
      version,
      resource: entry.name,
      kind: entry.kind,
      // Built-in resources leave singularName empty before Kubernetes 1.27; kubectl uses the kind.
      singular: entry.singularName || entry.kind.toLowerCase(),
      shortNames: [...(entry.shortNames ?? [])],
      namespaced: entry.namespaced,
      verbs: [...(entry.verbs ?? [])],
      categories: [...(entry.categories ?? [])],
      subresources: subresources.get(entry.name) ?? [],
    }));
}

/** Orders group versions by priority and picks each resource's preferred version. */
export function buildDiscoveryDocument(
  groups: readonly DiscoveredGroup[],
  lists: ReadonlyMap<string, ApiResourceListDocument>,
  failedGroupVersions: readonly string[] = [],
): DiscoveryDocument {
  const all: ApiResource[] = [];
  const preferred: ApiResource[] = [];
  for (const group of groups) {
    const seen = new Set<string>();
    for (const version of group.versions) {
      const list = lists.get(apiVersionOf({ group: group.name, version }));
      if (!list) continue;
      for (const resource of resourcesOf(list)) {
        all.push(resource);
        if (seen.has(resource.resource)) continue;
        seen.add(resource.resource);
        preferred.push(resource);
      }
    }
  }
  return { groups, all, preferred, failedGroupVersions };
}

// Core and Kubernetes' own groups win over anything a CRD or aggregated API adds, so a custom
// resource cannot take over `po`, `deploy` or `secrets` (a CRD may declare any short name).
function isBuiltInGroup(group: string): boolean {
  return group === "" || !group.includes(".") || group.endsWith(".k8s.io");
}

interface Pin {
  readonly group?: string;
  readonly version?: string;
}

function parseApiVersion(apiVersion: string): Required<Pin> {
  const trimmed = apiVersion.trim();
  if (trimmed.length === 0 || trimmed.split("/").length > 2 || trimmed.endsWith("/") || trimmed.startsWith("/")) {
    throw new GatewayError(
      "invalid_input",
      `"${apiVersion}" is not an apiVersion: write it as group/version (apps/v1) or v1 for the core group.`,
    );
  }
  return splitGroupVersion(trimmed);
}

// Ranks how a name matched a resource, best first: the plural, singular or kind before a short name.
function matchRank(resource: ApiResource, name: string): number | undefined {
  if (resource.resource === name || resource.singular === name || resource.kind.toLowerCase() === name) return 0;
  if (resource.shortNames.some((shortName) => shortName.toLowerCase() === name)) return 1;
  return undefined;
}

function editDistance(left: string, right: string): number {
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index);
  for (let row = 1; row <= left.length; row += 1) {
    const current = [row];
    for (let column = 1; column <= right.length; column += 1) {
      const substitution = (previous[column - 1] ?? 0) + (left[row - 1] === right[column - 1] ? 0 : 1);
      current.push(Math.min((previous[column] ?? 0) + 1, (current[column - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[right.length] ?? 0;
}

function suggestions(document: DiscoveryDocument, name: string): string[] {
  const found = new Set<string>();
  for (const resource of document.preferred) {
    const names = [resource.resource, resource.kind.toLowerCase(), ...resource.shortNames];
    if (
      names.some((candidate) => editDistance(candidate, name) <= 2 || (name.length >= 4 && candidate.startsWith(name)))
    ) {
      found.add(resource.group === "" ? resource.resource : `${resource.resource}.${resource.group}`);
    }
  }
  return [...found].slice(0, 5);
}

/**
 * Resolves what a user named — a kind (any case), plural, singular, short name, `resource.group`
 * or `resource.version.group` — to one resource, like kubectl: built-in groups before custom
 * ones, then an exact name before a short name, then discovery's group order, then the group's
 * preferred version. `apiVersion` pins group and version.
 */
export function resolveResource(document: DiscoveryDocument, query: ResourceQuery, cluster: string): ApiResource {
  const outcome = findResource(document, query, cluster);
  if ("missing" in outcome) throw outcome.missing;
  return outcome.found;
}

/** What `findResource` found: the resource, or why nothing matched (a refresh may help then). */
export type ResolveOutcome = { readonly found: ApiResource } | { readonly missing: GatewayError };

/** Like `resolveResource`, but reports a miss instead of throwing it; malformed names still throw. */
export function findResource(document: DiscoveryDocument, query: ResourceQuery, cluster: string): ResolveOutcome {
  const raw = query.resource.trim();
  if (raw.length === 0)
    throw new GatewayError("invalid_input", "Name a resource type, for example pods or deployments.");
  if (raw.includes("/")) {
    throw new GatewayError(
      "invalid_input",
      `"${raw}" is not a resource type: name the type alone (deployments), and give the apiVersion separately if needed.`,
    );
  }
  const pin: Pin = query.apiVersion === undefined ? {} : parseApiVersion(query.apiVersion);
  const knownGroups = new Set(document.groups.map((group) => group.name));
  const lower = raw.toLowerCase();

  // `deployments.apps`, `clusters.cluster.x-k8s.io`, `deployments.v1.apps`. A kind never holds a
  // dot, so a dotted name is always a resource qualified by its group.
  let name = lower;
  let group = pin.group;
  let version = pin.version;
  const dot = lower.indexOf(".");
  if (dot > 0) {
    const qualifier = lower.slice(dot + 1);
    const versionDot = qualifier.indexOf(".");
    const versionQualifier = versionDot > 0 ? qualifier.slice(0, versionDot) : undefined;
    const groupAfterVersion = versionDot > 0 ? qualifier.slice(versionDot + 1) : undefined;
    let qualifiedGroup: string | undefined;
    let qualifiedVersion: string | undefined;
    if (knownGroups.has(qualifier)) {
      qualifiedGroup = qualifier;
    } else if (
      groupAfterVersion !== undefined &&
      versionQualifier !== undefined &&
      knownGroups.has(groupAfterVersion) &&
      document.groups.some((item) => item.name === groupAfterVersion && item.versions.includes(versionQualifier))
    ) {
      qualifiedGroup = groupAfterVersion;
      qualifiedVersion = versionQualifier;
    }
    if (qualifiedGroup === undefined) {
      return missing(
        `No API group "${qualifier}" is served by cluster ${cluster}. Use k8s_get_api_resources to list the resource types it serves.`,
      );
    }
    if (group !== undefined && group !== qualifiedGroup) {
      throw new GatewayError(
        "invalid_input",
        `"${raw}" names group ${qualifiedGroup}, but apiVersion ${query.apiVersion} names group ${group || "core"}.`,
      );
    }
    if (version !== undefined && qualifiedVersion !== undefined && version !== qualifiedVersion) {
      throw new GatewayError(
        "invalid_input",
        `"${raw}" names version ${qualifiedVersion}, but apiVersion names ${version}.`,
      );
    }
    name = lower.slice(0, dot);
    group = qualifiedGroup;
    version = version ?? qualifiedVersion;
  }

  const groupOrder = new Map(document.groups.map((item, index) => [item.name, index]));
  const versionOrder = (resource: ApiResource) =>
    document.groups.find((item) => item.name === resource.group)?.versions.indexOf(resource.version) ?? 0;
  const candidates: { resource: ApiResource; key: number[] }[] = [];
  for (const resource of document.all) {
    if (group !== undefined && resource.group !== group) continue;
    const rank = matchRank(resource, name);
    if (rank === undefined) continue;
    candidates.push({
      resource,
      key: [
        isBuiltInGroup(resource.group) ? 0 : 1,
        rank,
        groupOrder.get(resource.group) ?? Number.MAX_SAFE_INTEGER,
        versionOrder(resource),
      ],
    });
  }
  const inVersion = version === undefined ? candidates : candidates.filter((item) => item.resource.version === version);
  inVersion.sort((left, right) => {
    for (let index = 0; index < left.key.length; index += 1) {
      const difference = (left.key[index] ?? 0) - (right.key[index] ?? 0);
      if (difference !== 0) return difference;
    }
    return 0;
  });
  const best = inVersion[0];
  if (best) return { found: best.resource };

  if (candidates.length > 0 && version !== undefined) {
    const served = [...new Set(candidates.map((item) => apiVersionOf(item.resource)))].join(", ");
    return missing(
      `"${raw}" is not served as ${query.apiVersion ?? version} on cluster ${cluster}; it is served as ${served}.`,
    );
  }
  const similar = suggestions(document, name);
  const hint = similar.length > 0 ? ` Did you mean ${similar.join(", ")}?` : "";
  const inGroup = group !== undefined && group !== "" ? ` in group ${group}` : group === "" ? " in the core group" : "";
  return missing(
    `The resource type "${raw}" is not served${inGroup} by cluster ${cluster}.${hint} Use k8s_get_api_resources to list the resource types it serves.`,
  );
}

function missing(message: string): ResolveOutcome {
  return { missing: new GatewayError("invalid_input", message) };
}
