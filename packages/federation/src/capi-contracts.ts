// The seam between Cluster API discovery (a watch on the management cluster) and the per-user
// catalogs built on it. Discovery keeps a current picture; catalogs never list Cluster objects.
import type { ClusterRef, KubeObject } from "@capi-mcp/core";

/** One Cluster API `Cluster`, as last seen by the watch. */
export interface CapiCluster {
  readonly ref: ClusterRef;
  readonly uid: string;
  readonly resourceVersion: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The object as served (v1beta2 preferred, v1beta1 when that is all the server has). */
  readonly object: KubeObject;
  readonly apiVersion: string;
  /** `spec.controlPlaneEndpoint`, when set. */
  readonly endpoint?: { readonly host: string; readonly port: number };
}

export type CapiChange =
  | { readonly type: "added" | "modified" | "deleted"; readonly cluster: CapiCluster }
  /** A watched secret or config map in a cluster namespace changed or went away. */
  | {
      readonly type: "credentials-changed";
      readonly namespace: string;
      readonly name: string;
      /** Which kind of object changed (absent: unknown, treat as either). */
      readonly from?: "secret" | "configmap";
    };

/** The management cluster's Cluster API objects, kept current by a watch (with resync and reconnect). */
export interface CapiDirectory {
  /** Resolves once the first full list has been loaded. */
  readonly ready: Promise<void>;
  /** The clusters now known, in namespace/name order. */
  list(): readonly CapiCluster[];
  get(ref: ClusterRef): CapiCluster | undefined;
  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: (change: CapiChange) => void): () => void;
  close(): Promise<void>;
}
