// What a tool call carries down to every API-server request it makes, without threading it
// through every signature: the call id (sent as `Audit-ID`, so the API server's audit log names
// the same id as the gateway's record) and the list the requests' answers are noted in (the
// record's `kubernetesResponses`). The runner opens the scope; `kube` reads it per request.
import { AsyncLocalStorage } from "node:async_hooks";

/** One API-server answer a call received, as its audit record lists it. Never a URL or a body. */
export interface KubernetesResponseNote {
  /** The API server's kubeconfig context (for a workload cluster, its `namespace/name`). */
  readonly cluster: string;
  /** The Kubernetes verb: get, list, watch, create, update, patch, delete, or connect (exec). */
  readonly verb: string;
  /** The resource (plural), with its subresource as `pods/log`; absent for discovery paths. */
  readonly resource?: string;
  /** HTTP status, or 0 when no answer arrived (refused connection, timeout). */
  readonly status: number;
}

export interface CallScope {
  /** The call id: a UUID, sent as `Audit-ID` on every request the call makes. */
  readonly callId: string;
  /** Answers noted so far, in order; at most `mostNotedResponses`, then only `moreResponses` grows. */
  readonly responses: KubernetesResponseNote[];
  moreResponses: number;
}

/** Bound on the answers one record lists: a fleet-wide list is at most 50 clusters, a walk a few pages. */
export const mostNotedResponses = 64;

const storage = new AsyncLocalStorage<CallScope>();

/** Runs `work` with `scope` as the current call; everything it awaits or starts sees the scope. */
export function runInCallScope<T>(scope: CallScope, work: () => T): T {
  return storage.run(scope, work);
}

/** The call the current code runs for, if any (undefined outside a tool call: informers, start-up). */
export function currentCallScope(): CallScope | undefined {
  return storage.getStore();
}

/** A new scope for a call with this id. */
export function newCallScope(callId: string): CallScope {
  return { callId, responses: [], moreResponses: 0 };
}

/** Notes an answer in the current call's scope, if there is one. */
export function noteKubernetesResponse(note: KubernetesResponseNote): void {
  const scope = storage.getStore();
  if (scope === undefined) return;
  if (scope.responses.length < mostNotedResponses) scope.responses.push(note);
  else scope.moreResponses += 1;
}
