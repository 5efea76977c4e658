import { GatewayError } from "@capi-mcp/core";

export interface NamespaceRules {
  /** Only these namespaces; undefined means every namespace not denied. */
  readonly allowedNamespaces?: readonly string[];
  readonly deniedNamespaces: readonly string[];
}

/** Whether any rule restricts namespaces at all; when none does, the guard skips namespace work. */
export function hasNamespaceRules(rules: NamespaceRules): boolean {
  return rules.allowedNamespaces !== undefined || rules.deniedNamespaces.length > 0;
}

/** The deny list wins over the allow list, so naming a namespace in both keeps it closed. */
export function namespaceAllowed(namespace: string, rules: NamespaceRules): boolean {
  if (rules.deniedNamespaces.includes(namespace)) return false;
  return rules.allowedNamespaces === undefined || rules.allowedNamespaces.includes(namespace);
}

/** The namespaces an allow list opens, minus those the deny list closes again. */
export function effectiveAllowedNamespaces(rules: NamespaceRules): readonly string[] | undefined {
  return rules.allowedNamespaces?.filter((namespace) => !rules.deniedNamespaces.includes(namespace));
}

// An allow list is operator configuration, not a secret, and naming it tells the caller where
// it may work instead; the cap keeps a long list from flooding a model's context.
const maximumNamespacesNamed = 10;

function describeNamespaces(namespaces: readonly string[]): string {
  if (namespaces.length === 0) return "none";
  const named = namespaces.slice(0, maximumNamespacesNamed).join(", ");
  const rest = namespaces.length - maximumNamespacesNamed;
  return rest > 0 ? `${named} and ${rest} more` : named;
}

/** Why a namespace is closed, naming the rule; undefined when it is open. */
export function namespaceDenialReason(namespace: string, rules: NamespaceRules): string | undefined {
  if (rules.deniedNamespaces.includes(namespace)) {
    return `the namespace "${namespace}" is closed by the gateway's --denied-namespaces rule`;
  }
  if (rules.allowedNamespaces !== undefined && !rules.allowedNamespaces.includes(namespace)) {
    return `the namespace "${namespace}" is not in the gateway's --allowed-namespaces list (${describeNamespaces(
      effectiveAllowedNamespaces(rules) ?? [],
    )})`;
  }
  return undefined;
}

/** Throws `denied_by_policy` when the namespace is closed. */
export function assertNamespaceAllowed(namespace: string, rules: NamespaceRules): void {
  const reason = namespaceDenialReason(namespace, rules);
  if (reason !== undefined) {
    throw new GatewayError("denied_by_policy", `Access denied: ${reason}.`, {
      detail: `namespace rule refused namespace ${namespace}`,
    });
  }
}

// The API server invents a name from `generateName` by cutting it to this length and adding
// five random characters, so a generated name starts with the cut prefix.
const generatedNamePrefixLength = 58;

/**
 * Why a Namespace created from `metadata.generateName` would be closed; undefined when every
 * name the API server could generate from the prefix is open. An allow list can never be
 * checked against a name nobody knows yet, so it refuses every generated namespace; a deny
 * list refuses a prefix that could generate one of its names.
 */
export function generatedNamespaceDenialReason(prefix: string, rules: NamespaceRules): string | undefined {
  const cut = prefix.slice(0, generatedNamePrefixLength);
  const reachable = rules.deniedNamespaces.find((namespace) => namespace.startsWith(cut));
  if (reachable !== undefined) {
    return `a namespace generated from "${prefix}" could be "${reachable}", which the gateway's --denied-namespaces rule closes`;
  }
  if (rules.allowedNamespaces !== undefined) {
    return (
      `a namespace generated from "${prefix}" gets a random name that cannot be checked against the gateway's ` +
      `--allowed-namespaces list (${describeNamespaces(effectiveAllowedNamespaces(rules) ?? [])}); set metadata.name instead`
    );
  }
  return undefined;
}

/** Throws `denied_by_policy` when a Namespace generated from `prefix` could be closed. */
export function assertGeneratedNamespaceAllowed(prefix: string, rules: NamespaceRules): void {
  const reason = generatedNamespaceDenialReason(prefix, rules);
  if (reason !== undefined) {
    throw new GatewayError("denied_by_policy", `Access denied: ${reason}.`, {
      detail: `namespace rule refused a generated namespace name`,
    });
  }
}
