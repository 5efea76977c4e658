import { randomUUID } from "node:crypto";
import { GatewayError, type PortForwardEntry, type PortForwardRegistry, type SessionState } from "@capi-mcp/core";

/**
 * Listeners one session may hold: each is a port on the gateway's host and a WebSocket per
 * connection, so one principal's share of both is bounded by this times their session cap.
 */
export const maximumPortForwardsPerSession = 10;

function createPortForwardRegistry(): PortForwardRegistry {
  const entries = new Map<string, PortForwardEntry>();
  return {
    add(cluster, handle) {
      if (entries.size >= maximumPortForwardsPerSession) {
        void handle.close().catch(() => undefined);
        throw new GatewayError(
          "rate_limited",
          `This session already has ${maximumPortForwardsPerSession} port-forwards open. Stop one with k8s_stop_port_forward (k8s_list_port_forwards lists them), then try again.`,
        );
      }
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
