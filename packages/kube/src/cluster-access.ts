import {
  type AccessAnswer,
  type AccessQuestion,
  type ApiResource,
  apiVersionOf,
  type ClusterAccess,
  type DeleteOptions,
  GatewayError,
  type KubeList,
  type KubeObject,
  type ListOptions,
  type MutationOptions,
  type PatchType,
  type ResourceQuery,
} from "@capi-mcp/core";
import { createAccessContext } from "./access-context.js";
import type { KubeConnection } from "./connection.js";
import { findResource } from "./discovery.js";
import { scrubServerText } from "./errors.js";
import { clusterHealth } from "./health.js";
import { execInPod, podLogs, portForwardToPod } from "./pods.js";
import { collectionPath, objectPath, resourceLabel } from "./resource-paths.js";
import { KubeHttpError } from "./transport-error.js";

export interface ClusterAccessOptions {
  /** The cluster's name as users write it; every message names it. */
  readonly clusterName: string;
  /** Field manager for server-side apply (default `capi-mcp`). */
  readonly fieldManager?: string;
  /** Upper bound on `health()` (default 5 s). */
  readonly healthTimeoutMilliseconds?: number;
}

const patchContentTypes: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  json: "application/json-patch+json",
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function mutationQuery(options: MutationOptions): URLSearchParams {
  const query = new URLSearchParams();
  if (options.dryRun) query.set("dryRun", "All");
  return query;
}

/** The namespace a call on an existing object uses: required for namespaced resources, dropped otherwise. */
function namespaceFor(resource: ApiResource, namespace: string | undefined, cluster: string): string | undefined {
  if (!resource.namespaced) return undefined;
  if (namespace === undefined || namespace.length === 0) {
    throw new GatewayError(
      "invalid_input",
      `${resourceLabel(resource)} are namespaced: give a namespace (cluster ${cluster}).`,
    );
  }
  return namespace;
}

/**
 * The object as it will be sent: apiVersion and kind filled in from the resource when missing,
 * metadata.namespace set from the call when the object has none. Conflicting values are refused
 * rather than silently picked.
 */
function prepareObject(
  resource: ApiResource,
  object: KubeObject,
  namespace: string | undefined,
  cluster: string,
): { body: KubeObject; namespace: string | undefined } {
  if (!isPlainObject(object)) throw new GatewayError("invalid_input", "The object must be a JSON object.");
  if (object.kind !== undefined && String(object.kind).toLowerCase() !== resource.kind.toLowerCase()) {
    throw new GatewayError(
      "invalid_input",
      `The object is a ${String(object.kind)}, but the resource named is ${resourceLabel(resource)} (${resource.kind}).`,
    );
  }
  const metadata = isPlainObject(object.metadata) ? { ...object.metadata } : {};
  let targetNamespace: string | undefined;
  if (resource.namespaced) {
    const fromObject =
      typeof metadata.namespace === "string" && metadata.namespace !== "" ? metadata.namespace : undefined;
    if (fromObject && namespace && fromObject !== namespace) {
      throw new GatewayError(
        "invalid_input",
        `The object's metadata.namespace is "${fromObject}" but the call names namespace "${namespace}"; they must agree.`,
      );
    }
    targetNamespace = fromObject ?? (namespace || undefined);
    if (!targetNamespace) {
      throw new GatewayError(
        "invalid_input",
        `${resourceLabel(resource)} are namespaced: set metadata.namespace or give a namespace (cluster ${cluster}).`,
      );
    }
    metadata.namespace = targetNamespace;
  }
  return {
    body: {
      ...object,
      apiVersion: object.apiVersion ?? apiVersionOf(resource),
      kind: object.kind ?? resource.kind,
      metadata,
    },
    namespace: targetNamespace,
  };
}

function parsePatch(patch: unknown, type: PatchType): unknown {
  let value = patch;
  if (typeof patch === "string") {
    try {
      value = JSON.parse(patch);
    } catch {
      throw new GatewayError("invalid_input", "The patch is not valid JSON.");
    }
  }
  if (type === "json" && !Array.isArray(value)) {
    throw new GatewayError(
      "invalid_input",
      'A JSON patch is a list of operations, for example [{"op":"replace","path":"/spec/replicas","value":2}].',
    );
  }
  if (type !== "json" && !isPlainObject(value)) {
    throw new GatewayError("invalid_input", `A ${type} patch is a JSON object with the fields to change.`);
  }
  return value;
}

/** What a delete returns: the object (still finalizing) or, from a `Status`, the object's identity. */
function deletedObject(
  answer: KubeObject,
  resource: ApiResource,
  name: string,
  namespace: string | undefined,
): KubeObject {
  if (answer.kind !== "Status") return answer;
  const details = isPlainObject(answer.details) ? answer.details : {};
  return {
    apiVersion: apiVersionOf(resource),
    kind: resource.kind,
    metadata: {
      name: typeof details.name === "string" ? details.name : name,
      ...(namespace === undefined ? {} : { namespace }),
      ...(typeof details.uid === "string" ? { uid: details.uid } : {}),
    },
  };
}

/** The `ClusterAccess` for one connection: every call as the connection's identity. */
export function createClusterAccess(connection: KubeConnection, options: ClusterAccessOptions): ClusterAccess {
  const cluster = options.clusterName;
  const fieldManager = options.fieldManager ?? "capi-mcp";
  const healthTimeout = options.healthTimeoutMilliseconds ?? 5_000;
  const context = createAccessContext(connection, cluster);
  const discoveryOperation = context.operation("get", "API discovery");

  async function canI(question: AccessQuestion): Promise<AccessAnswer> {
    if (!question.verb || !question.resource) {
      throw new GatewayError("invalid_input", "Name the verb and the resource to ask about, for example list pods.");
    }
    const review = await context.json<{ status?: { allowed?: boolean; denied?: boolean; reason?: string } }>(
      context.operation("create", "selfsubjectaccessreviews.authorization.k8s.io"),
      {
        method: "POST",
        path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SelfSubjectAccessReview",
          spec: {
            resourceAttributes: {
              verb: question.verb,
              group: question.group,
              resource: question.resource,
              ...(question.subresource ? { subresource: question.subresource } : {}),
              ...(question.namespace ? { namespace: question.namespace } : {}),
              ...(question.name ? { name: question.name } : {}),
            },
          },
        },
      },
    );
    const status = review.status ?? {};
    // The authorizer's reason names the binding's subjects (`to Group "acme-dev"`): scrub it.
    return {
      allowed: status.allowed === true,
      ...(status.denied ? { denied: true } : {}),
      ...(status.reason ? { reason: scrubServerText(status.reason, connection.identityTerms) } : {}),
    };
  }

  return {
    cluster,

    async listApiResources() {
      const document = await context.run(discoveryOperation, () => connection.discovery.current());
      return document.preferred;
    },

    async resolve(query: ResourceQuery) {
      let document = await context.run(discoveryOperation, () => connection.discovery.current());
      let outcome = findResource(document, query, cluster);
      if ("missing" in outcome) {
        // A CRD installed since the last discovery: look once more before saying no.
        document = await context.run(discoveryOperation, () => connection.discovery.refreshAfterMiss());
        outcome = findResource(document, query, cluster);
      }
      if ("missing" in outcome) throw outcome.missing;
      return outcome.found;
    },

    async get(resource, name, namespace) {
      const target = namespaceFor(resource, namespace, cluster);
      return context.json<KubeObject>(context.operation("get", resourceLabel(resource), name, target), {
        method: "GET",
        path: objectPath(resource, name, target),
      });
    },

    async list(resource, listOptions: ListOptions) {
      const namespace = resource.namespaced && listOptions.namespace ? listOptions.namespace : undefined;
      const query = new URLSearchParams();
      if (listOptions.labelSelector) query.set("labelSelector", listOptions.labelSelector);
      if (listOptions.fieldSelector) query.set("fieldSelector", listOptions.fieldSelector);
      if (listOptions.limit !== undefined) {
        if (!Number.isInteger(listOptions.limit) || listOptions.limit < 1) {
          throw new GatewayError(
            "invalid_input",
            `limit must be a whole number of at least 1, not ${listOptions.limit}.`,
          );
        }
        query.set("limit", String(listOptions.limit));
      }
      if (listOptions.continue) query.set("continue", listOptions.continue);
      const list = await context.json<KubeList>(
        context.operation("list", resourceLabel(resource), undefined, namespace),
        {
          method: "GET",
          path: collectionPath(resource, namespace),
          query,
        },
      );
      return { ...list, items: list.items ?? [] };
    },

    async create(resource, object, createOptions) {
      const { body, namespace } = prepareObject(resource, object, createOptions.namespace, cluster);
      const name = body.metadata?.name ?? body.metadata?.generateName;
      return context.json<KubeObject>(context.operation("create", resourceLabel(resource), name, namespace), {
        method: "POST",
        path: collectionPath(resource, namespace),
        query: mutationQuery(createOptions),
        body,
      });
    },

    async apply(resource, object, applyOptions) {
      const { body, namespace } = prepareObject(resource, object, applyOptions.namespace, cluster);
      const name = body.metadata?.name;
      if (typeof name !== "string" || name.length === 0) {
        throw new GatewayError("invalid_input", "Server-side apply needs metadata.name in the object.");
      }
      const query = mutationQuery(applyOptions);
      query.set("fieldManager", fieldManager);
      if (applyOptions.force) query.set("force", "true");
      return context.json<KubeObject>(context.operation("patch", resourceLabel(resource), name, namespace), {
        method: "PATCH",
        path: objectPath(resource, name, namespace),
        query,
        // JSON is YAML: the apply content type takes either.
        body,
        contentType: "application/apply-patch+yaml",
      });
    },

    async patch(resource, name, namespace, patch, type, patchOptions) {
      const target = namespaceFor(resource, namespace, cluster);
      const body = parsePatch(patch, type);
      const operation = context.operation("patch", resourceLabel(resource), name, target);
      return context.run(operation, async () => {
        try {
          const response = await connection.request({
            method: "PATCH",
            path: objectPath(resource, name, target),
            query: mutationQuery(patchOptions),
            body,
            contentType: patchContentTypes[type],
          });
          return JSON.parse(response.body.toString("utf8")) as KubeObject;
        } catch (error) {
          if (error instanceof KubeHttpError && error.status === 415 && type === "strategic") {
            throw new GatewayError(
              "invalid_input",
              `${resourceLabel(resource)} does not support strategic merge patch (custom resources never do); use a merge patch or a JSON patch instead.`,
              { detail: `HTTP 415 for strategic merge patch on ${resourceLabel(resource)} on ${cluster}` },
            );
          }
          throw error;
        }
      });
    },

    async delete(resource, name, namespace, deleteOptions: DeleteOptions) {
      const target = namespaceFor(resource, namespace, cluster);
      const query = mutationQuery(deleteOptions);
      if (deleteOptions.propagationPolicy) query.set("propagationPolicy", deleteOptions.propagationPolicy);
      if (deleteOptions.gracePeriodSeconds !== undefined) {
        if (!Number.isInteger(deleteOptions.gracePeriodSeconds) || deleteOptions.gracePeriodSeconds < 0) {
          throw new GatewayError("invalid_input", "gracePeriodSeconds must be a whole number of at least 0.");
        }
        query.set("gracePeriodSeconds", String(deleteOptions.gracePeriodSeconds));
      }
      const answer = await context.json<KubeObject>(
        context.operation("delete", resourceLabel(resource), name, target),
        {
          method: "DELETE",
          path: objectPath(resource, name, target),
          query,
        },
      );
      return deletedObject(answer, resource, name, target);
    },

    async scale(resource, name, namespace, replicas, scaleOptions) {
      if (!resource.subresources.includes("scale")) {
        throw new GatewayError(
          "invalid_input",
          `${resourceLabel(resource)} cannot be scaled: it has no scale subresource on cluster ${cluster}. Deployments, ReplicaSets, StatefulSets and resources that declare scale can.`,
        );
      }
      if (!Number.isInteger(replicas) || replicas < 0) {
        throw new GatewayError("invalid_input", `replicas must be a whole number of at least 0, not ${replicas}.`);
      }
      const target = namespaceFor(resource, namespace, cluster);
      return context.json<KubeObject>(context.operation("patch", resourceLabel(resource, "scale"), name, target), {
        method: "PATCH",
        path: objectPath(resource, name, target, "scale"),
        query: mutationQuery(scaleOptions),
        body: { spec: { replicas } },
        contentType: patchContentTypes.merge,
      });
    },

    logs: (request) => podLogs(context, request),
    exec: (request) => execInPod(context, request),
    portForward: (request) => portForwardToPod(context, request, canI),
    health: () => clusterHealth(context, healthTimeout),
    canI,
  };
}
