import {
  type ClusterAccess,
  type ClusterCatalog,
  type ClusterSummary,
  GatewayError,
  type PortForwardEntry,
  type PortForwardHandle,
  type PortForwardRegistry,
  type SessionState,
  type ToolContext,
  type ToolSettings,
} from "@capi-mcp/core";
import type { InMemoryCluster } from "./in-memory-cluster.js";
import { testContinueTokens } from "./test-continue-tokens.js";

export class InMemoryCatalog implements ClusterCatalog {
  readonly defaultCluster: string | undefined;
  private readonly clusters: Map<string, InMemoryCluster>;
  private readonly summaries: readonly ClusterSummary[];

  constructor(
    clusters: readonly InMemoryCluster[],
    options: { defaultCluster?: string; summaries?: ClusterSummary[] } = {},
  ) {
    this.clusters = new Map(clusters.map((cluster) => [cluster.cluster, cluster]));
    this.defaultCluster = "defaultCluster" in options ? options.defaultCluster : clusters[0]?.cluster;
    this.summaries = options.summaries ?? clusters.map((cluster) => ({ name: cluster.cluster }));
  }

  async list(): Promise<readonly ClusterSummary[]> {
    return this.summaries;
  }

  async access(name: string): Promise<ClusterAccess> {
    const cluster = this.clusters.get(name);
    if (cluster === undefined) {
      throw new GatewayError("cluster_not_found", `No cluster "${name}" is available to you: see k8s_list_contexts.`);
    }
    return cluster;
  }
}

export class InMemoryPortForwardRegistry implements PortForwardRegistry {
  private readonly entries = new Map<string, PortForwardEntry>();
  private nextId = 1;

  add(cluster: string, handle: PortForwardHandle): PortForwardEntry {
    const entry: PortForwardEntry = { id: `pf-${this.nextId++}`, cluster, handle, startedAt: new Date() };
    this.entries.set(entry.id, entry);
    return entry;
  }

  list(): readonly PortForwardEntry[] {
    return [...this.entries.values()];
  }

  async stop(id: string): Promise<boolean> {
    const entry = this.entries.get(id);
    if (entry === undefined) return false;
    this.entries.delete(id);
    await entry.handle.close();
    return true;
  }

  async stopAll(): Promise<void> {
    for (const id of [...this.entries.keys()]) await this.stop(id);
  }
}

export const testSettings: ToolSettings = {
  dryRun: false,
  outputBudgetBytes: 60_000,
  execTimeoutMilliseconds: 30_000,
  execMaxOutputBytes: 64_000,
  logMaxBytes: 50_000,
  logDefaultTailLines: 200,
  fanoutConcurrency: 4,
  fanoutTimeoutMilliseconds: 5000,
};

export function newSession(id = "session-1"): SessionState {
  return { id, currentCluster: undefined, portForwards: new InMemoryPortForwardRegistry() };
}

export interface TestContextOptions {
  readonly session?: SessionState;
  readonly settings?: Partial<ToolSettings>;
  readonly defaultCluster?: string;
  /** Who calls, for the continue tokens' binding: another caller's tokens do not open. */
  readonly caller?: string;
}

/** A ToolContext over in-memory clusters; the first cluster is the default unless told otherwise. */
export function testContext(
  clusters: readonly InMemoryCluster[] | InMemoryCatalog,
  options: TestContextOptions = {},
): ToolContext {
  const catalog =
    clusters instanceof InMemoryCatalog
      ? clusters
      : new InMemoryCatalog(clusters, "defaultCluster" in options ? { defaultCluster: options.defaultCluster } : {});
  return {
    clusters: catalog,
    continueTokens: testContinueTokens(options.caller),
    session: options.session ?? newSession(),
    principal: undefined,
    settings: { ...testSettings, ...options.settings },
    signal: new AbortController().signal,
  };
}
