import { describe, expect, it } from "vitest";
import { gatewayErrorFrom, gatewayErrorFromResponse, type Operation, scrubServerText } from "./errors.js";
import { KubeHttpError, KubeTransportError } from "./transport-error.js";

const listPods: Operation = {
  cluster: "org-acme/dev",
  verb: "list",
  resource: "pods",
  namespace: "kube-system",
  identityTerms: ["alice@example.com", "acme-dev"],
};

function status(code: number, reason: string, message: string, details?: Record<string, unknown>): string {
  return JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message, details });
}

describe("mapping a Kubernetes Status to a GatewayError", () => {
  it("rewrites an RBAC denial without the user name or groups the API server put in it", () => {
    const body = status(
      403,
      "Forbidden",
      'pods is forbidden: User "alice@example.com" cannot list resource "pods" in API group "" in the namespace "kube-system"',
      { kind: "pods" },
    );
    const error = gatewayErrorFromResponse(403, body, listPods);
    expect(error.code).toBe("forbidden");
    expect(error.message).toBe("Forbidden: you may not list pods in namespace kube-system on cluster org-acme/dev.");
    expect(error.message).not.toContain("alice");
    expect(error.message).not.toContain("acme-dev");
  });

  it("keeps an admission plugin's reason for a 403, with any identity scrubbed out", () => {
    const body = status(
      403,
      "Forbidden",
      'pods "x" is forbidden: exceeded quota: compute, requested by alice@example.com in groups [acme-dev system:authenticated]',
    );
    const error = gatewayErrorFromResponse(403, body, { ...listPods, verb: "create", name: "x" });
    expect(error.message).toContain("exceeded quota: compute");
    expect(error.message).not.toContain("alice@example.com");
    expect(error.message).not.toContain("acme-dev");
  });

  it("names a NotFound object, its namespace and the cluster", () => {
    const body = status(404, "NotFound", 'deployments.apps "x" not found', {
      name: "x",
      group: "apps",
      kind: "deployments",
    });
    const error = gatewayErrorFromResponse(404, body, {
      cluster: "C",
      verb: "get",
      resource: "deployments",
      name: "x",
      namespace: "web",
    });
    expect(error.code).toBe("not_found");
    expect(error.message).toBe('deployments "x" not found in namespace "web" on cluster C.');
  });

  it("does not put a namespace on a missing namespace", () => {
    const body = status(404, "NotFound", 'namespaces "nope" not found', { name: "nope", kind: "namespaces" });
    const error = gatewayErrorFromResponse(404, body, {
      cluster: "C",
      verb: "create",
      resource: "configmaps",
      namespace: "nope",
    });
    expect(error.message).toBe('namespaces "nope" not found on cluster C.');
  });

  it("maps AlreadyExists and Conflict to conflict, suggesting force for an apply conflict", () => {
    const exists = gatewayErrorFromResponse(
      409,
      status(409, "AlreadyExists", 'configmaps "a" already exists', { name: "a", kind: "configmaps" }),
      { cluster: "C", verb: "create", resource: "configmaps", namespace: "web" },
    );
    expect(exists.code).toBe("conflict");
    expect(exists.message).toBe('configmaps "a" already exists in namespace "web" on cluster C.');
    const apply = gatewayErrorFromResponse(
      409,
      status(409, "Conflict", 'Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.replicas'),
      { cluster: "C", verb: "patch", resource: "deployments", name: "d", namespace: "web" },
    );
    expect(apply.code).toBe("conflict");
    expect(apply.message).toContain(".spec.replicas");
    expect(apply.message).toContain("force");
  });

  it("maps Invalid to invalid_object with the field causes", () => {
    const body = status(422, "Invalid", 'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"', {
      name: "Bad_Name",
      kind: "ConfigMap",
      causes: [
        {
          reason: "FieldValueInvalid",
          message: 'Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain',
          field: "metadata.name",
        },
      ],
    });
    const error = gatewayErrorFromResponse(422, body, { cluster: "C", verb: "create", resource: "configmaps" });
    expect(error.code).toBe("invalid_object");
    expect(error.causes).toEqual([
      {
        field: "metadata.name",
        reason: "FieldValueInvalid",
        message: 'Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain',
      },
    ]);
  });

  it.each([
    [401, "Unauthorized", "unauthenticated"],
    [429, "TooManyRequests", "rate_limited"],
    [504, "Timeout", "timeout"],
    [503, "ServiceUnavailable", "unavailable"],
    [400, "BadRequest", "invalid_input"],
    [410, "Expired", "invalid_input"],
    [413, "RequestEntityTooLarge", "too_large"],
    [500, "InternalError", "internal"],
  ] as const)("maps HTTP %i %s to %s", (code, reason, expected) => {
    expect(gatewayErrorFromResponse(code, status(code, reason, "something"), listPods).code).toBe(expected);
  });

  it("copes with an answer that is not a Status", () => {
    const error = gatewayErrorFromResponse(502, "<html>bad gateway</html>", listPods);
    expect(error.code).toBe("unavailable");
    expect(error.message).toContain("org-acme/dev");
  });

  it("maps connection failures to unavailable and timeouts to timeout, keeping detail out of the message", () => {
    const refused = gatewayErrorFrom(
      new KubeTransportError("unreachable", "connect ECONNREFUSED 127.0.0.1:1", { code: "ECONNREFUSED" }),
      listPods,
    );
    expect(refused.code).toBe("unavailable");
    expect(refused.message).toBe("Cluster org-acme/dev is unreachable.");
    expect(refused.detail).toContain("ECONNREFUSED");
    expect(gatewayErrorFrom(new KubeTransportError("timeout", "headers timeout"), listPods).code).toBe("timeout");
    expect(gatewayErrorFrom(new KubeHttpError(404, ""), listPods).code).toBe("not_found");
    const unexpected = gatewayErrorFrom(new TypeError("boom"), listPods);
    expect(unexpected.code).toBe("internal");
    expect(unexpected.message).not.toContain("TypeError");
    expect(unexpected.message).not.toContain("at ");
  });
});

describe("scrubbing identities from server text", () => {
  it("removes quoted users, groups, service accounts and the connection's known identity", () => {
    const text = scrubServerText(
      'RBAC: allowed by RoleBinding "edit/web" of ClusterRole "edit" to Group "acme-dev"; User "bob" and system:serviceaccount:kube-system:default; alice@example.com',
      ["alice@example.com"],
    );
    expect(text).not.toMatch(/acme-dev|"bob"|kube-system:default|alice@example.com/);
    expect(text).toContain('RoleBinding "edit/web"');
  });
});

describe("scrubbing leaves API groups alone", () => {
  it('keeps `in API group "apps"` while removing the user', () => {
    const text = scrubServerText(
      'User "bob" cannot get resource "deployments" in API group "apps" in the namespace "web"',
    );
    expect(text).toBe('the user cannot get resource "deployments" in API group "apps" in the namespace "web"');
  });
});

describe("an API server's text that embeds a stored Secret", () => {
  // The answer kube-apiserver 1.20 gave on the fleet to a merge patch with invalid base64 in
  // `data`: the whole stored Secret, every value in base64, in the message and in the cause.
  const stored = Buffer.from("stored-value-written-elsewhere-42").toString("base64");
  const dump = JSON.stringify(
    JSON.stringify({ apiVersion: "v1", data: { bad: "!!!", stored }, kind: "Secret", metadata: { name: "app" } }),
  );
  const message = ` "" is invalid: patch: Invalid value: ${dump}: v1.Secret.Data: decode base64: illegal base64 data at input byte 0, error found in #10 byte of ...|!!!","stored":|..., bigger context ...|{"apiVersion":"v1","data":{"bad":"!!!","stored":"${stored}"},"kind":"Secr|...`;
  const body = JSON.stringify({
    kind: "Status",
    status: "Failure",
    message,
    reason: "Invalid",
    details: {
      causes: [
        { reason: "FieldValueInvalid", message: message.slice(message.indexOf("Invalid value")), field: "patch" },
      ],
    },
    code: 422,
  });
  const patchSecret: Operation = {
    cluster: "org-acme/dev",
    verb: "patch",
    resource: "secrets",
    name: "app",
    namespace: "default",
  };

  it("reaches the caller without the stored values, keeping the reason", () => {
    const error = gatewayErrorFromResponse(422, body, patchSecret);
    const everything = [
      error.message,
      error.detail ?? "",
      ...error.causes.map((cause) => `${cause.field} ${cause.message}`),
    ].join("\n");
    expect(everything).not.toContain(stored);
    expect(everything).not.toContain("stored-value");
    expect(error.message).toContain("illegal base64 data at input byte 0");
    expect(error.causes[0]?.field).toBe("patch");
  });

  it("reaches the caller without the stored values when the body was cut short and is no longer JSON", () => {
    const error = gatewayErrorFromResponse(422, body.slice(0, Math.floor(body.length * 0.7)), patchSecret);
    expect(error.message).not.toContain(stored);
  });
});
