import type { PortForwardEntry } from "@capi-mcp/core";
import { z } from "zod";

export const localPortField = z
  .number()
  .int()
  .min(1024)
  .max(65_535)
  .optional()
  .describe("Local port on 127.0.0.1 (1024-65535). Default: a free port.");

/** The answer to a new forward: where to connect, what it reaches, and how to end it. */
export function describeNewForward(entry: PortForwardEntry, via: string | undefined): string {
  const { handle } = entry;
  return [
    `Forwarding ${handle.localAddress}:${handle.localPort} → pod ${handle.namespace}/${handle.pod} port ${handle.remotePort}${via === undefined ? "" : ` (${via})`} on cluster ${entry.cluster}.`,
    `Port-forward id: ${entry.id}. It lasts until this MCP session ends, you call k8s_stop_port_forward with id "${entry.id}", or it has gone unused (no connection, no call in this session) for a few minutes.`,
  ].join("\n");
}

export function forwardStructured(entry: PortForwardEntry): Record<string, unknown> {
  return {
    id: entry.id,
    cluster: entry.cluster,
    localAddress: entry.handle.localAddress,
    localPort: entry.handle.localPort,
    namespace: entry.handle.namespace,
    pod: entry.handle.pod,
    remotePort: entry.handle.remotePort,
  };
}
