import { GatewayError } from "@capi-mcp/core";
import type { KubeConnection, KubeHttpRequest } from "./connection.js";
import { gatewayErrorFrom, type Operation } from "./errors.js";

/** What every operation needs: the connection, the cluster's name, and error mapping. */
export interface AccessContext {
  readonly connection: KubeConnection;
  readonly cluster: string;
  operation(verb: string, resource: string, name?: string, namespace?: string): Operation;
  /** Runs a call; any failure becomes the `GatewayError` for that operation. */
  run<T>(operation: Operation, call: () => Promise<T>): Promise<T>;
  /** Sends a request and parses its JSON answer, failures mapped for the operation. */
  json<T>(operation: Operation, request: KubeHttpRequest): Promise<T>;
}

export function createAccessContext(connection: KubeConnection, cluster: string): AccessContext {
  const operation = (verb: string, resource: string, name?: string, namespace?: string): Operation => ({
    cluster,
    verb,
    resource,
    ...(name === undefined ? {} : { name }),
    ...(namespace === undefined ? {} : { namespace }),
    identityTerms: connection.identityTerms,
  });
  const run = async <T>(target: Operation, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw gatewayErrorFrom(error, target);
    }
  };
  return {
    connection,
    cluster,
    operation,
    run,
    json: <T>(target: Operation, request: KubeHttpRequest) =>
      run(target, async () => {
        const response = await connection.request(request);
        try {
          return JSON.parse(response.body.toString("utf8")) as T;
        } catch (error) {
          throw new GatewayError("internal", `Cluster ${cluster} sent an answer that is not JSON.`, {
            detail: `content-type ${response.contentType}`,
            cause: error,
          });
        }
      }),
  };
}
