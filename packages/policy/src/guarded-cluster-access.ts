import {
  type AccessAnswer,
  type AccessQuestion,
  type ApiResource,
  type ClusterAccess,
  type DeleteOptions,
  type ExecRequest,
  type ExecResult,
  GatewayError,
  type GuardedOperation,
  type KubeList,
  type KubeObject,
  type ListOptions,
  type LogRequest,
  type LogResult,
  type MutationOptions,
  type PatchType,
  type PortForwardHandle,
  type PortForwardRequest,
} from "@capi-mcp/core";
import type { ContinueTokenBinding, ContinueTokenSealer } from "./continue-tokens.js";
import type { GuardSettings } from "./guard-settings.js";
import {
  decodeNamespacePagePosition,
  encodeNamespacePagePosition,
  type NamespacePagePosition,
} from "./namespace-list-pages.js";
import {
  assertGeneratedNamespaceAllowed,
  assertNamespaceAllowed,
  effectiveAllowedNamespaces,
  hasNamespaceRules,
  namespaceAllowed,
} from "./namespace-rules.js";
import { assertWellFormedObject, requestedName, requestedNamePrefix } from "./object-metadata.js";
import { decideOperation } from "./operation-rules.js";
import { sanitizeObjects } from "./secret-redaction.js";

function isNamespacesResource(resource: Pick<ApiResource, "group" | "resource">): boolean {
  return resource.group === "" && resource.resource === "namespaces";
}

function isSecretsResource(resource: Pick<ApiResource, "group" | "resource">): boolean {
  return resource.group === "" && resource.resource === "secrets";
}

function describeList(names: readonly string[]): string {
  return names.length === 0 ? "none" : names.join(", ");
}

function itemCount(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/**
 * Wraps one cluster's access so every call keeps the operator's rules. Tools only ever receive
 * this wrapper, so there is no call path that skips it:
 *
 * - guarded methods (create, apply, patch, scale, delete, exec, portForward) check the mode
 *   rules again, so a tool that calls a method its declared operation does not cover is still
 *   refused;
 * - in dry-run mode every mutation is sent with `dryRun: true`, whatever the tool passed;
 * - every namespace a call names is checked against the allow and deny lists (for the
 *   `namespaces` resource itself, the object's name is); lists across all namespaces are
 *   filtered or merged, and say so in `policyNote`;
 * - every object returned has Secret values replaced (unless `allowSecretValues`) and the
 *   last-applied annotation removed.
 */
export interface GuardedAccessPaging {
  /** Seals every continue token handed out and opens every one passed in. */
  readonly continueTokens: ContinueTokenSealer;
  /** Who lists through this access, for the tokens' binding (`principalIdentityKey`, or the gateway's identity). */
  readonly caller: string;
}

export function guardClusterAccess(
  access: ClusterAccess,
  settings: GuardSettings,
  paging: GuardedAccessPaging,
): ClusterAccess {
  const namespaceRulesActive = hasNamespaceRules(settings);

  function tokenBinding(resource: ApiResource, options: ListOptions): ContinueTokenBinding {
    return {
      caller: paging.caller,
      cluster: access.cluster,
      query: JSON.stringify([
        resource.group,
        resource.resource,
        options.namespace ?? "",
        options.labelSelector ?? "",
        options.fieldSelector ?? "",
      ]),
    };
  }

  /**
   * Every list, on every path, hands out only sealed continue tokens and accepts only its own:
   * the API server's token names the next object it will read (possibly one the rules hide)
   * and could be edited, so it never leaves the gateway as it is.
   */
  async function sealedList(resource: ApiResource, options: ListOptions): Promise<KubeList> {
    const binding = tokenBinding(resource, options);
    const given = options.continue;
    const upstreamOptions =
      given === undefined || given === ""
        ? options
        : { ...options, continue: paging.continueTokens.open(given, binding) };
    const page = await list(resource, upstreamOptions);
    const next = page.metadata?.continue;
    if (next === undefined || next === "") return page;
    return { ...page, metadata: { ...page.metadata, continue: paging.continueTokens.seal(next, binding) } };
  }

  function sanitize<T>(resource: ApiResource, value: T): T {
    return sanitizeObjects(value, {
      redactSecretValues: !settings.allowSecretValues,
      assumeSecret: isSecretsResource(resource) || resource.kind === "Secret",
    });
  }

  /** Refuses the operation or says whether it must run as a dry run. */
  function requireOperation(operation: GuardedOperation): boolean {
    const decision = decideOperation(operation, `The ${operation} operation`, settings);
    if (!decision.allowed) throw decision.error;
    return decision.dryRun;
  }

  function mutationOptions<Options extends MutationOptions>(operation: GuardedOperation, options: Options): Options {
    const forceDryRun = requireOperation(operation);
    return { ...options, dryRun: options.dryRun || forceDryRun };
  }

  /**
   * Checks the namespaces a request on `resource` touches. A namespaced request that names no
   * namespace would land in whatever default the cluster client picks, which the rules cannot
   * see, so while rules are active it must name one.
   */
  function checkRequestNamespaces(resource: ApiResource, name: string | undefined, namespaces: (string | undefined)[]) {
    if (!namespaceRulesActive) return;
    if (isNamespacesResource(resource)) {
      if (name !== undefined) assertNamespaceAllowed(name, settings);
      return;
    }
    if (!resource.namespaced) return;
    const named = namespaces.filter((namespace): namespace is string => namespace !== undefined && namespace !== "");
    if (named.length === 0) {
      throw new GatewayError(
        "denied_by_policy",
        `Name the namespace explicitly: the gateway's namespace rules apply to ${resource.resource}, and a request ` +
          "that leaves the namespace to the cluster's default cannot be checked.",
        { detail: `namespaced ${resource.resource} request without a namespace` },
      );
    }
    for (const namespace of named) assertNamespaceAllowed(namespace, settings);
  }

  /**
   * Checks an object sent to be created or applied, on every way it can name a namespace: the
   * request's namespace and `metadata.namespace` for a namespaced object; for a Namespace, the
   * name it asks for or, with only `generateName`, every name the API server could make of it.
   * The object's shape is checked first, rules or not, so no rule compares a non-string.
   */
  function checkObjectNamespaces(resource: ApiResource, object: KubeObject, requestNamespace: string | undefined) {
    assertWellFormedObject(object);
    if (!namespaceRulesActive) return;
    if (isNamespacesResource(resource)) {
      const name = requestedName(object);
      const prefix = requestedNamePrefix(object);
      if (name !== undefined) assertNamespaceAllowed(name, settings);
      else if (prefix !== undefined) assertGeneratedNamespaceAllowed(prefix, settings);
      else {
        throw new GatewayError(
          "invalid_input",
          "A Namespace needs metadata.name (or metadata.generateName): the gateway's namespace rules check the name it creates.",
        );
      }
      return;
    }
    checkRequestNamespaces(resource, requestedName(object), [requestNamespace, object.metadata?.namespace]);
  }

  function checkReturnedNamespace(resource: ApiResource, object: KubeObject): void {
    if (!namespaceRulesActive || !resource.namespaced) return;
    const namespace = object.metadata?.namespace;
    if (namespace !== undefined) assertNamespaceAllowed(namespace, settings);
  }

  function withoutHiddenItems(
    list: KubeList,
    keep: (item: KubeObject) => boolean,
  ): { readonly list: KubeList; readonly hidden: number } {
    const items = list.items.filter(keep);
    return { list: { ...list, items }, hidden: list.items.length - items.length };
  }

  function inOpenNamespace(item: KubeObject): boolean {
    const namespace = item.metadata?.namespace;
    return namespace === undefined || namespaceAllowed(namespace, settings);
  }

  async function listNamespaces(resource: ApiResource, options: ListOptions): Promise<KubeList> {
    const upstream = await access.list(resource, options);
    const { list, hidden } = withoutHiddenItems(upstream, (item) => {
      const name = item.metadata?.name;
      return name !== undefined && namespaceAllowed(name, settings);
    });
    return {
      ...list,
      policyNote: `Namespaces closed by the gateway's namespace rules are left out: ${itemCount(hidden, "namespace")} hidden.`,
    };
  }

  async function listAcrossDeniedNamespaces(resource: ApiResource, options: ListOptions): Promise<KubeList> {
    const upstream = await access.list(resource, options);
    const { list, hidden } = withoutHiddenItems(upstream, inOpenNamespace);
    // The server's estimate counts items the rules hide, so it would mislead; drop it.
    const { remainingItemCount: _misleading, ...metadata } = list.metadata ?? {};
    return {
      ...list,
      ...(list.metadata === undefined ? {} : { metadata }),
      policyNote:
        `Items in namespaces closed by the gateway's --denied-namespaces rule (${describeList(settings.deniedNamespaces)}) ` +
        `are left out: ${itemCount(hidden, "item")} hidden from this page.`,
    };
  }

  /**
   * With an allow list, a listing across all namespaces is made of one listing per allowed
   * namespace, merged. A user's RBAC often covers exactly those namespaces, where a single
   * cluster-wide listing would be forbidden; `limit` and `continue` work across the merge.
   */
  async function listAcrossAllowedNamespaces(
    resource: ApiResource,
    options: ListOptions,
    namespaces: readonly string[],
  ): Promise<KubeList> {
    const position =
      options.continue === undefined || options.continue === ""
        ? undefined
        : decodeNamespacePagePosition(options.continue, namespaces);
    const startIndex = position === undefined ? 0 : namespaces.indexOf(position.namespace);
    // The API server reads a limit of 0 as "no limit"; so does this merge.
    const limit = options.limit === undefined || options.limit <= 0 ? undefined : options.limit;
    const items: KubeObject[] = [];
    let apiVersion: string | undefined;
    let kind: string | undefined;
    let next: NamespacePagePosition | undefined;
    for (let index = startIndex; index < namespaces.length; index++) {
      const namespace = namespaces[index];
      if (namespace === undefined) break;
      const remaining = limit === undefined ? undefined : limit - items.length;
      if (remaining !== undefined && remaining <= 0) {
        next = { namespace };
        break;
      }
      const upstreamContinue = index === startIndex ? position?.continue : undefined;
      const page = await access.list(resource, {
        ...(options.labelSelector === undefined ? {} : { labelSelector: options.labelSelector }),
        ...(options.fieldSelector === undefined ? {} : { fieldSelector: options.fieldSelector }),
        ...(remaining === undefined ? {} : { limit: remaining }),
        ...(upstreamContinue === undefined ? {} : { continue: upstreamContinue }),
        namespace,
      });
      apiVersion ??= page.apiVersion;
      kind ??= page.kind;
      items.push(...page.items);
      const pageContinue = page.metadata?.continue;
      if (pageContinue !== undefined && pageContinue !== "") {
        next = { namespace, continue: pageContinue };
        break;
      }
    }
    // Each upstream listing was already limited to one open namespace; this only guards
    // against a client that ignored the namespace it was given.
    const { list, hidden } = withoutHiddenItems({ items }, inOpenNamespace);
    return {
      ...(apiVersion === undefined ? {} : { apiVersion }),
      ...(kind === undefined ? {} : { kind }),
      metadata: next === undefined ? {} : { continue: encodeNamespacePagePosition(next) },
      items: list.items,
      policyNote:
        `Listed only the namespaces the gateway's namespace rules open (${describeList(namespaces)}), ` +
        `each queried separately and merged${hidden > 0 ? `; ${itemCount(hidden, "item")} outside them hidden` : ""}.`,
    };
  }

  async function list(resource: ApiResource, options: ListOptions): Promise<KubeList> {
    if (!namespaceRulesActive) return access.list(resource, options);
    if (isNamespacesResource(resource)) return listNamespaces(resource, options);
    if (!resource.namespaced) return access.list(resource, options);
    if (options.namespace !== undefined && options.namespace !== "") {
      assertNamespaceAllowed(options.namespace, settings);
      const { list: filtered, hidden } = withoutHiddenItems(await access.list(resource, options), inOpenNamespace);
      return hidden === 0
        ? filtered
        : { ...filtered, policyNote: `${itemCount(hidden, "item")} outside the requested namespace hidden.` };
    }
    const allowed = effectiveAllowedNamespaces(settings);
    return allowed === undefined
      ? listAcrossDeniedNamespaces(resource, options)
      : listAcrossAllowedNamespaces(resource, options, [...new Set(allowed)]);
  }

  return {
    cluster: access.cluster,
    listApiResources: () => access.listApiResources(),
    resolve: (query) => access.resolve(query),
    health: () => access.health(),

    async get(resource: ApiResource, name: string, namespace?: string): Promise<KubeObject> {
      if (namespaceRulesActive) {
        if (isNamespacesResource(resource)) assertNamespaceAllowed(name, settings);
        else if (resource.namespaced && namespace !== undefined && namespace !== "") {
          assertNamespaceAllowed(namespace, settings);
        }
      }
      const object = await access.get(resource, name, namespace);
      // A get without a namespace lands in the client's default; check where it really was.
      checkReturnedNamespace(resource, object);
      return sanitize(resource, object);
    },

    async list(resource: ApiResource, options: ListOptions): Promise<KubeList> {
      return sanitize(resource, await sealedList(resource, options));
    },

    async create(resource, object, options) {
      const guardedOptions = mutationOptions("create", options);
      checkObjectNamespaces(resource, object, options.namespace);
      return sanitize(resource, await access.create(resource, object, guardedOptions));
    },

    async apply(resource, object, options) {
      const guardedOptions = mutationOptions("apply", options);
      checkObjectNamespaces(resource, object, options.namespace);
      return sanitize(resource, await access.apply(resource, object, guardedOptions));
    },

    async patch(
      resource: ApiResource,
      name: string,
      namespace: string | undefined,
      patch: unknown,
      type: PatchType,
      options: MutationOptions,
    ): Promise<KubeObject> {
      const guardedOptions = mutationOptions("patch", options);
      checkRequestNamespaces(resource, name, [namespace]);
      return sanitize(resource, await access.patch(resource, name, namespace, patch, type, guardedOptions));
    },

    async delete(
      resource: ApiResource,
      name: string,
      namespace: string | undefined,
      options: DeleteOptions,
    ): Promise<KubeObject> {
      const guardedOptions = mutationOptions("delete", options);
      checkRequestNamespaces(resource, name, [namespace]);
      return sanitize(resource, await access.delete(resource, name, namespace, guardedOptions));
    },

    async scale(
      resource: ApiResource,
      name: string,
      namespace: string,
      replicas: number,
      options: MutationOptions,
    ): Promise<KubeObject> {
      const guardedOptions = mutationOptions("scale", options);
      checkRequestNamespaces(resource, name, [namespace]);
      return sanitize(resource, await access.scale(resource, name, namespace, replicas, guardedOptions));
    },

    async logs(request: LogRequest): Promise<LogResult> {
      if (namespaceRulesActive) assertNamespaceAllowed(request.namespace, settings);
      return access.logs(request);
    },

    async exec(request: ExecRequest): Promise<ExecResult> {
      requireOperation("exec");
      if (namespaceRulesActive) assertNamespaceAllowed(request.namespace, settings);
      return access.exec(request);
    },

    async portForward(request: PortForwardRequest): Promise<PortForwardHandle> {
      requireOperation("port-forward");
      if (namespaceRulesActive) assertNamespaceAllowed(request.namespace, settings);
      return access.portForward(request);
    },

    async canI(question: AccessQuestion): Promise<AccessAnswer> {
      // RBAC might allow what the gateway refuses; answering "yes" for a closed namespace would
      // send the caller into a denial, so the question itself is refused the same way.
      if (namespaceRulesActive) {
        if (question.namespace !== undefined && question.namespace !== "") {
          assertNamespaceAllowed(question.namespace, settings);
        }
        if (isNamespacesResource(question) && question.name !== undefined) {
          assertNamespaceAllowed(question.name, settings);
        }
      }
      return access.canI(question);
    },
  };
}
