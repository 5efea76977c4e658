// A pooled cluster client: counts the calls running on it so an evicted client is closed only
// once they finish, and reports a 401 so the pool drops a client whose credentials stopped working.
import { type ClusterAccess, GatewayError } from "@capi-mcp/core";

export interface PooledAccessHooks {
  /** A call on this client failed with `unauthenticated` (the API server answered 401). */
  readonly onUnauthenticated: () => void;
  /** The last running call finished. */
  readonly onIdle: () => void;
}

export interface PooledAccess {
  readonly access: ClusterAccess;
  /** Calls now running on the client. */
  readonly active: number;
}

export function createPooledAccess(inner: ClusterAccess, hooks: PooledAccessHooks): PooledAccess {
  let active = 0;
  async function guard<T>(call: () => Promise<T>): Promise<T> {
    active += 1;
    try {
      return await call();
    } catch (error) {
      // The error is rethrown unchanged: the caller still learns the credentials were refused.
      if (error instanceof GatewayError && error.code === "unauthenticated") hooks.onUnauthenticated();
      throw error;
    } finally {
      active -= 1;
      if (active === 0) hooks.onIdle();
    }
  }
  const access: ClusterAccess = {
    cluster: inner.cluster,
    listApiResources: () => guard(() => inner.listApiResources()),
    resolve: (query) => guard(() => inner.resolve(query)),
    get: (resource, name, namespace) => guard(() => inner.get(resource, name, namespace)),
    list: (resource, options) => guard(() => inner.list(resource, options)),
    create: (resource, object, options) => guard(() => inner.create(resource, object, options)),
    apply: (resource, object, options) => guard(() => inner.apply(resource, object, options)),
    patch: (resource, name, namespace, patch, type, options) =>
      guard(() => inner.patch(resource, name, namespace, patch, type, options)),
    delete: (resource, name, namespace, options) => guard(() => inner.delete(resource, name, namespace, options)),
    scale: (resource, name, namespace, replicas, options) =>
      guard(() => inner.scale(resource, name, namespace, replicas, options)),
    logs: (request) => guard(() => inner.logs(request)),
    exec: (request) => guard(() => inner.exec(request)),
    portForward: (request) => guard(() => inner.portForward(request)),
    health: () => guard(() => inner.health()),
    canI: (question) => guard(() => inner.canI(question)),
  };
  return {
    access,
    get active() {
      return active;
    },
  };
}
