import { randomUUID } from "node:crypto";
import type { PortForwardEntry, PortForwardRegistry, SessionState } from "@capi-mcp/core";

function createPortForwardRegistry(): PortForwardRegistry {
  const entries = new Map<string, PortForwardEntry>();
  return {
    add(cluster, handle) {
      const entry: PortForwardEntry = { id: `pf-${randomUUID().slice(0, 8)}`, cluster, handle, startedAt: new Date() };
      entries.set(entry.id, entry);
      return entry;
    },
    list: () => [...entries.values()],
    async stop(id) {
      const entry = entries.get(id);
      if (!entry) return false;
      entries.delete(id);
      await entry.handle.close();
      return true;
    },
    async stopAll() {
      const all = [...entries.values()];
      entries.clear();
      await Promise.allSettled(all.map((entry) => entry.handle.close()));
    },
  };
}

/** A new MCP session's state: no current cluster yet, no port-forwards. */
export function createSessionState(id: string | undefined): SessionState {
  return { id, currentCluster: undefined, portForwards: createPortForwardRegistry() };
}
