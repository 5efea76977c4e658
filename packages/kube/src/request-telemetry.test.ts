import { currentCallScope, newCallScope, runInCallScope } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import { requestShape, startRequestTelemetry } from "./request-telemetry.js";
import { KubeHttpError, KubeTransportError } from "./transport-error.js";

describe("the shape of a request, as the API server's authorizer sees it", () => {
  it.each([
    ["GET", "/api/v1/namespaces/web/pods", "", { verb: "list", resource: "pods", namespace: "web" }],
    ["GET", "/api/v1/namespaces/web/pods/api-0", "", { verb: "get", resource: "pods", namespace: "web" }],
    ["GET", "/api/v1/namespaces/web/pods/api-0/log", "", { verb: "get", resource: "pods/log", namespace: "web" }],
    ["GET", "/apis/apps/v1/deployments", "watch=true", { verb: "watch", resource: "deployments" }],
    [
      "POST",
      "/apis/apps/v1/namespaces/web/deployments",
      "",
      { verb: "create", resource: "deployments", namespace: "web" },
    ],
    [
      "PUT",
      "/apis/apps/v1/namespaces/web/deployments/api/scale",
      "",
      { verb: "update", resource: "deployments/scale", namespace: "web" },
    ],
    ["PATCH", "/api/v1/namespaces/web", "", { verb: "patch", resource: "namespaces" }],
    [
      "DELETE",
      "/api/v1/namespaces/web/configmaps/settings",
      "",
      { verb: "delete", resource: "configmaps", namespace: "web" },
    ],
    [
      "DELETE",
      "/api/v1/namespaces/web/configmaps",
      "",
      { verb: "deletecollection", resource: "configmaps", namespace: "web" },
    ],
    ["GET", "/apis", "", { verb: "get" }],
    ["GET", "/api/v1", "", { verb: "get" }],
  ])("%s %s?%s", (method, path, query, expected) => {
    expect(requestShape(method, path, new URLSearchParams(query))).toEqual(expected);
  });

  it("calls an upgraded exec or port-forward connect, and names no object", () => {
    const shape = requestShape("GET", "/api/v1/namespaces/web/pods/api-0/exec", new URLSearchParams(), true);
    expect(shape).toEqual({ verb: "connect", resource: "pods/exec", namespace: "web" });
    expect(JSON.stringify(shape)).not.toContain("api-0");
  });
});

describe("a request inside a tool call", () => {
  it("carries the call's id as Audit-ID and notes its answer in the call's scope", () => {
    const scope = newCallScope("6f1c2d8e-0a4b-4c3d-9e8f-7a6b5c4d3e2f");
    runInCallScope(scope, () => {
      const first = startRequestTelemetry("org-acme/dev", "127.0.0.1:6443", "GET", { verb: "list", resource: "pods" });
      expect(first.headers["Audit-ID"]).toBe(scope.callId);
      first.end({ status: 200 });
      first.end({ status: 500 });
      const second = startRequestTelemetry("org-acme/dev", "127.0.0.1:6443", "DELETE", {
        verb: "delete",
        resource: "pods",
      });
      second.end({ error: new KubeHttpError(403, "{}") });
      const third = startRequestTelemetry("org-acme/dev", "127.0.0.1:6443", "GET", { verb: "get" });
      third.end({ error: new KubeTransportError("timeout", "no answer") });
    });
    expect(scope.responses).toEqual([
      { cluster: "org-acme/dev", verb: "list", resource: "pods", status: 200 },
      { cluster: "org-acme/dev", verb: "delete", resource: "pods", status: 403 },
      { cluster: "org-acme/dev", verb: "get", status: 0 },
    ]);
  });

  it("sends no Audit-ID outside a call (informers, start-up)", () => {
    expect(currentCallScope()).toBeUndefined();
    const telemetry = startRequestTelemetry("management", "127.0.0.1:6443", "GET", {
      verb: "watch",
      resource: "clusters",
    });
    expect(telemetry.headers["Audit-ID"]).toBeUndefined();
    telemetry.end({ status: 200 });
  });
});
