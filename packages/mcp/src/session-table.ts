// The open streamable-HTTP sessions and the rules for how many there may be and when they end.
// Kept apart from the HTTP handling so the rules can be read (and tested) on their own.
import type { SessionState } from "@capi-mcp/core";

/** Why a session ended, or why a new one was refused (the metrics' reasons). */
export type SessionEndReason =
  | "deleted"
  | "idle-timeout"
  | "client-gone"
  | "principal-limit"
  | "global-limit"
  | "shutdown";

export interface SessionEvent {
  readonly type: "opened" | "closed" | "refused";
  readonly reason?: SessionEndReason;
}

export interface SessionLimits {
  /** A session with no request and no open stream this long is closed (its port-forwards stop). */
  readonly idleTimeoutMilliseconds: number;
  /** Sessions open at once, for everyone together. */
  readonly maxSessions: number;
  /** Sessions open at once for one principal (without OAuth, every caller is the same one). */
  readonly maxSessionsPerPrincipal: number;
  /**
   * A client that held the server's GET stream is gone once the stream has been closed this long
   * with no request since: its session ends then, not after the idle timeout.
   */
  readonly clientGoneGraceMilliseconds: number;
  /**
   * Port-forwards of a session with no request, no open stream and no forwarded connection this
   * long are stopped, even while the session itself may still be resumed.
   */
  readonly portForwardIdleMilliseconds: number;
}

export const defaultSessionLimits: SessionLimits = {
  idleTimeoutMilliseconds: 30 * 60_000,
  maxSessions: 1000,
  maxSessionsPerPrincipal: 100,
  clientGoneGraceMilliseconds: 30_000,
  portForwardIdleMilliseconds: 5 * 60_000,
};

export interface TrackedSession<Resources> {
  readonly id: string;
  /** Who holds it: the principal's issuer and subject, or one key for every unauthenticated caller. */
  readonly principalKey: string;
  readonly state: SessionState;
  readonly resources: Resources;
  /** Requests being answered and GET streams open: a session with either is in use. */
  inFlight: number;
  openStreams: number;
  /** Whether the client ever held the GET stream: only then does a closed stream mean it is gone. */
  heldStream: boolean;
  lastActivity: number;
  /** When each port-forward last had a connection (by forward id). */
  readonly forwardActivity: Map<string, number>;
}

/** What admitting a new session requires: sessions to close first, or a refusal. */
export type Admission<Resources> =
  | {
      readonly admitted: true;
      readonly evict: readonly { session: TrackedSession<Resources>; reason: SessionEndReason }[];
    }
  | { readonly admitted: false; readonly reason: "principal-limit" | "global-limit" };

/** What one sweep found: sessions to close, and port-forwards to stop in sessions that stay. */
export interface SweepResult<Resources> {
  readonly close: readonly { session: TrackedSession<Resources>; reason: SessionEndReason }[];
  readonly stopForwards: readonly { session: TrackedSession<Resources>; forwardId: string }[];
}

function inUse(session: TrackedSession<unknown>): boolean {
  return session.inFlight > 0 || session.openStreams > 0;
}

/** The least recently active session that is not in use, or undefined. */
function oldestIdle<Resources>(
  candidates: Iterable<TrackedSession<Resources>>,
  excluded: ReadonlySet<TrackedSession<Resources>>,
): TrackedSession<Resources> | undefined {
  let oldest: TrackedSession<Resources> | undefined;
  for (const candidate of candidates) {
    if (inUse(candidate) || excluded.has(candidate)) continue;
    if (!oldest || candidate.lastActivity < oldest.lastActivity) oldest = candidate;
  }
  return oldest;
}

export function createSessionTable<Resources>(limits: SessionLimits) {
  const sessions = new Map<string, TrackedSession<Resources>>();
  const byPrincipal = new Map<string, Set<TrackedSession<Resources>>>();

  return {
    get size() {
      return sessions.size;
    },
    get(id: string): TrackedSession<Resources> | undefined {
      return sessions.get(id);
    },
    all(): TrackedSession<Resources>[] {
      return [...sessions.values()];
    },
    countFor(principalKey: string): number {
      return byPrincipal.get(principalKey)?.size ?? 0;
    },

    /**
     * Room for one more session of this principal. Their own oldest idle session goes first when
     * they are at their cap; when everyone together is at the global cap, the oldest idle session
     * of anyone goes, so many users at once push out the longest-unused sessions instead of
     * locking newcomers out. Sessions in use (a request running, a stream open) are never taken;
     * when none can go, the new session is refused.
     */
    admit(principalKey: string): Admission<Resources> {
      const evict: { session: TrackedSession<Resources>; reason: SessionEndReason }[] = [];
      const chosen = new Set<TrackedSession<Resources>>();
      const own = byPrincipal.get(principalKey) ?? new Set<TrackedSession<Resources>>();
      if (own.size >= limits.maxSessionsPerPrincipal) {
        const victim = oldestIdle(own, chosen);
        if (!victim) return { admitted: false, reason: "principal-limit" };
        chosen.add(victim);
        evict.push({ session: victim, reason: "principal-limit" });
      }
      if (sessions.size - evict.length >= limits.maxSessions) {
        const victim = oldestIdle(sessions.values(), chosen);
        if (!victim) return { admitted: false, reason: "global-limit" };
        chosen.add(victim);
        evict.push({ session: victim, reason: "global-limit" });
      }
      return { admitted: true, evict };
    },

    add(session: TrackedSession<Resources>): void {
      sessions.set(session.id, session);
      const own = byPrincipal.get(session.principalKey) ?? new Set();
      own.add(session);
      byPrincipal.set(session.principalKey, own);
    },

    /** Forgets a session; true when it was still here (so it is closed exactly once). */
    remove(id: string): boolean {
      const session = sessions.get(id);
      if (!session) return false;
      sessions.delete(id);
      const own = byPrincipal.get(session.principalKey);
      own?.delete(session);
      if (own?.size === 0) byPrincipal.delete(session.principalKey);
      return true;
    },

    sweep(now: number): SweepResult<Resources> {
      const close: { session: TrackedSession<Resources>; reason: SessionEndReason }[] = [];
      const stopForwards: { session: TrackedSession<Resources>; forwardId: string }[] = [];
      for (const session of sessions.values()) {
        if (inUse(session)) continue;
        const quiet = now - session.lastActivity;
        if (session.heldStream && quiet > limits.clientGoneGraceMilliseconds) {
          close.push({ session, reason: "client-gone" });
          continue;
        }
        if (quiet > limits.idleTimeoutMilliseconds) {
          close.push({ session, reason: "idle-timeout" });
          continue;
        }
        for (const entry of session.state.portForwards.list()) {
          const connections = entry.handle.activeConnections?.() ?? 0;
          if (connections > 0) session.forwardActivity.set(entry.id, now);
          const lastUsed = Math.max(
            session.lastActivity,
            entry.startedAt.getTime(),
            session.forwardActivity.get(entry.id) ?? 0,
          );
          if (now - lastUsed > limits.portForwardIdleMilliseconds) stopForwards.push({ session, forwardId: entry.id });
        }
      }
      return { close, stopForwards };
    },
  };
}
