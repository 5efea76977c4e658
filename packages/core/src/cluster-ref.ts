import { GatewayError } from "./gateway-error.js";

/**
 * A cluster is always identified by namespace and name. Two organisations may each own a
 * cluster called `prod`; a bare name is never enough to pick one.
 */
export interface ClusterRef {
  readonly namespace: string;
  readonly name: string;
}

// RFC 1123 label, the rule Kubernetes applies to namespace names (and, in practice, to
// Cluster API cluster names, which become DNS labels and secret name prefixes).
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const maximumLabelLength = 63;

function isDnsLabel(value: string): boolean {
  return value.length <= maximumLabelLength && dnsLabel.test(value);
}

export function formatClusterRef(ref: ClusterRef): string {
  return `${ref.namespace}/${ref.name}`;
}

export function sameCluster(left: ClusterRef, right: ClusterRef): boolean {
  return left.namespace === right.namespace && left.name === right.name;
}

/** Parses `namespace/name`. A bare name is not a reference; resolving one is federation's job. */
export function parseClusterRef(text: string): ClusterRef {
  const parts = text.split("/");
  if (parts.length !== 2) {
    throw new GatewayError(
      "invalid_input",
      `"${text}" is not a cluster reference: write it as namespace/name, for example org-acme/prod.`,
    );
  }
  const [namespace = "", name = ""] = parts;
  for (const [label, value] of [
    ["namespace", namespace],
    ["name", name],
  ] as const) {
    if (!isDnsLabel(value)) {
      throw new GatewayError(
        "invalid_input",
        `The cluster ${label} "${value}" is not valid: use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit.`,
      );
    }
  }
  return { namespace, name };
}
