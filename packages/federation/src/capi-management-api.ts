// The few management-cluster calls the Cluster API catalogs make with the gateway's OWN
// credentials: access reviews, and reading a cluster's kubeconfig or CA. Kept behind an interface
// so unit tests can stand in for the API server, and so no user credential can reach these calls.
import { type ApiResource, type ClusterAccess, GatewayError, type KubeObject } from "@capi-mcp/core";
import { createClusterAccess, createKubeConnection, type KubeConnection } from "@capi-mcp/kube";
import type { KubeConfig } from "@kubernetes/client-node";

/** Whose access a review asks about: a user as the gateway will present them. */
export interface ReviewSubject {
  readonly user: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

export interface ResourceAttributes {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly namespace: string;
  readonly name: string;
}

export interface ManagementApi {
  /**
   * Whether `subject` may do what `attributes` say (a SubjectAccessReview created by the gateway),
   * or, with no subject, whether the management credentials' own identity may (a
   * SelfSubjectAccessReview: the stdio user acting as themselves).
   */
  mayAccess(subject: ReviewSubject | undefined, attributes: ResourceAttributes): Promise<boolean>;
  /** A secret's data, base64-decoded; undefined when the secret does not exist. */
  readSecret(namespace: string, name: string): Promise<Readonly<Record<string, string>> | undefined>;
  /** A config map's data; undefined when it does not exist. */
  readConfigMap(namespace: string, name: string): Promise<Readonly<Record<string, string>> | undefined>;
  close(): Promise<void>;
}

export interface ManagementApiOptions {
  readonly kubeConfig: KubeConfig;
  readonly context?: string;
  readonly requestTimeoutMilliseconds?: number;
  readonly connectTimeoutMilliseconds?: number;
}

function coreResource(resource: string, kind: string): ApiResource {
  return {
    group: "",
    version: "v1",
    resource,
    kind,
    singular: kind.toLowerCase(),
    shortNames: [],
    namespaced: true,
    verbs: ["get"],
    categories: [],
    subresources: [],
  };
}

function reviewResource(resource: string, kind: string): ApiResource {
  return {
    group: "authorization.k8s.io",
    version: "v1",
    resource,
    kind,
    singular: kind.toLowerCase(),
    shortNames: [],
    namespaced: false,
    verbs: ["create"],
    categories: [],
    subresources: [],
  };
}

const secrets = coreResource("secrets", "Secret");
const configMaps = coreResource("configmaps", "ConfigMap");
const subjectAccessReviews = reviewResource("subjectaccessreviews", "SubjectAccessReview");
const selfSubjectAccessReviews = reviewResource("selfsubjectaccessreviews", "SelfSubjectAccessReview");

function stringRecord(value: unknown): Record<string, string> {
  const record: Record<string, string> = {};
  if (typeof value !== "object" || value === null) return record;
  for (const [key, item] of Object.entries(value)) if (typeof item === "string") record[key] = item;
  return record;
}

async function readOptional(access: ClusterAccess, resource: ApiResource, namespace: string, name: string) {
  try {
    return await access.get(resource, name, namespace);
  } catch (error) {
    if (error instanceof GatewayError && error.code === "not_found") return undefined;
    throw error;
  }
}

/**
 * A refusal here is of the gateway's OWN service account, not of the user: say so, rather than
 * the kube layer's "you may not …", which would send the user after rights they cannot fix.
 */
async function asGateway<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof GatewayError && (error.code === "forbidden" || error.code === "unauthenticated")) {
      throw new GatewayError(
        "unavailable",
        `The gateway may not ${what} on the management cluster: its service account lacks that RBAC rule, so the call was not made. An administrator must grant it (the Helm chart's RBAC does).`,
        { ...(error.detail === undefined ? {} : { detail: error.detail }), cause: error },
      );
    }
    throw error;
  }
}

/** The management API through `@capi-mcp/kube`: one keep-alive connection, bounded timeouts. */
export function createManagementApi(options: ManagementApiOptions): ManagementApi {
  const connection: KubeConnection = createKubeConnection({
    kubeConfig: options.kubeConfig,
    ...(options.context === undefined ? {} : { context: options.context }),
    // Reviews and secret reads sit in front of every first call to a cluster: keep them snappy,
    // and let many users' first calls through at once.
    qps: 50,
    burst: 100,
    connectTimeoutMilliseconds: options.connectTimeoutMilliseconds ?? 5_000,
    requestTimeoutMilliseconds: options.requestTimeoutMilliseconds ?? 10_000,
  });
  const access = createClusterAccess(connection, { clusterName: "management" });

  return {
    async mayAccess(subject, attributes) {
      const resourceAttributes = { ...attributes };
      const review: KubeObject =
        subject === undefined
          ? { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes } }
          : {
              apiVersion: "authorization.k8s.io/v1",
              kind: "SubjectAccessReview",
              spec: {
                user: subject.user,
                groups: [...subject.groups],
                extra: Object.fromEntries(Object.entries(subject.extra).map(([key, values]) => [key, [...values]])),
                resourceAttributes,
              },
            };
      const answer = await asGateway(
        subject === undefined ? "create selfsubjectaccessreviews" : "create subjectaccessreviews",
        () =>
          access.create(subject === undefined ? selfSubjectAccessReviews : subjectAccessReviews, review, {
            dryRun: false,
          }),
      );
      const status = (answer as { status?: { allowed?: unknown } }).status;
      return status?.allowed === true;
    },
    async readSecret(namespace, name) {
      const secret = await asGateway(`get secrets in namespace ${namespace}`, () =>
        readOptional(access, secrets, namespace, name),
      );
      if (!secret) return undefined;
      const data = stringRecord((secret as { data?: unknown }).data);
      return Object.fromEntries(
        Object.entries(data).map(([key, value]) => [key, Buffer.from(value, "base64").toString("utf8")]),
      );
    },
    async readConfigMap(namespace, name) {
      const configMap = await asGateway(`get configmaps in namespace ${namespace}`, () =>
        readOptional(access, configMaps, namespace, name),
      );
      return configMap ? stringRecord((configMap as { data?: unknown }).data) : undefined;
    },
    close: () => connection.close(),
  };
}
