import type { ClusterHealth, GatewayError } from "@capi-mcp/core";
import type { AccessContext } from "./access-context.js";
import { gatewayErrorFrom } from "./errors.js";
import { KubeHttpError } from "./transport-error.js";

/** Parses `/readyz?verbose`: `[+]ping ok`, `[-]etcd failed: reason withheld`. */
export function parseReadyz(text: string): { name: string; ok: boolean }[] {
  const checks: { name: string; ok: boolean }[] = [];
  for (const line of text.split("\n")) {
    const match = /^\[([+-])\](\S+)\s+(ok|failed|excluded)/.exec(line.trim());
    if (match?.[2] && match[3] !== "excluded") checks.push({ name: match[2], ok: match[1] === "+" });
  }
  return checks;
}

interface NodeList {
  readonly items?: readonly {
    readonly status?: { readonly conditions?: readonly { type?: string; status?: string }[] };
  }[];
  readonly metadata?: { readonly continue?: string };
}

async function nodeSummary(
  context: AccessContext,
  signal: AbortSignal,
): Promise<{ total: number; ready: number } | undefined> {
  let total = 0;
  let ready = 0;
  let continueToken: string | undefined;
  do {
    const query = new URLSearchParams({ limit: "500" });
    if (continueToken) query.set("continue", continueToken);
    const response = await context.connection.request({ method: "GET", path: "/api/v1/nodes", query, signal });
    const list = JSON.parse(response.body.toString("utf8")) as NodeList;
    for (const node of list.items ?? []) {
      total += 1;
      if (node.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True"))
        ready += 1;
    }
    continueToken = list.metadata?.continue || undefined;
  } while (continueToken);
  return { total, ready };
}

/**
 * Readiness checks, version, and (when the caller may list nodes) how many nodes are Ready, all
 * within `timeoutMilliseconds`. An unreachable cluster is an answer, not an error.
 */
export async function clusterHealth(context: AccessContext, timeoutMilliseconds: number): Promise<ClusterHealth> {
  const signal = AbortSignal.timeout(timeoutMilliseconds);
  const operation = context.operation("get", "readyz");
  const readyz = context.connection
    .request({
      method: "GET",
      path: "/readyz",
      query: new URLSearchParams({ verbose: "" }),
      accept: "text/plain, */*",
      signal,
      timeoutMilliseconds,
    })
    .then(
      (response): { text?: string; failure?: GatewayError } => ({ text: response.body.toString("utf8") }),
      (error: unknown) => {
        // A failing check answers 500 with the same verbose list; that is a health report.
        if (error instanceof KubeHttpError && error.status === 500) return { text: error.body };
        if (error instanceof KubeHttpError) return { text: "" };
        return { failure: gatewayErrorFrom(error, operation) };
      },
    );
  const version = context.connection.request({ method: "GET", path: "/version", signal, timeoutMilliseconds }).then(
    (response) => (JSON.parse(response.body.toString("utf8")) as { gitVersion?: string }).gitVersion,
    () => undefined,
  );
  // Listing nodes is the permission check: a user who may not simply gets no node summary.
  const nodes = nodeSummary(context, signal).catch(() => undefined);
  const [ready, gitVersion, nodeCounts] = await Promise.all([readyz, version, nodes]);
  if (ready.failure !== undefined) {
    return { reachable: false, checks: [], error: ready.failure.message };
  }
  return {
    reachable: true,
    ...(gitVersion ? { version: gitVersion } : {}),
    checks: parseReadyz(ready.text ?? ""),
    ...(nodeCounts ? { nodes: nodeCounts } : {}),
  };
}
