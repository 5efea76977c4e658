import { GatewayError } from "@capi-mcp/core";
import { describe, expect, it } from "vitest";
import { ago, makeDeployment, makeEvent, makePod } from "../testing/fixtures.js";
import { InMemoryCluster } from "../testing/in-memory-cluster.js";
import { runTool } from "../testing/run-tool.js";
import { sampleCluster } from "../testing/sample-cluster.js";
import { newSession, testContext } from "../testing/test-context.js";
import { describeResourceTool } from "./describe-resource.js";

const minute = 60_000;

describe("k8s_describe_resource", () => {
  it("summarizes a pod with containers, images, conditions, owner and its recent events", async () => {
    const cluster = sampleCluster([
      makeEvent({
        name: "e1",
        namespace: "shop",
        object: { kind: "Pod", name: "web-2", uid: "uid-web-2" },
        reason: "Pulled",
        message: "Container image pulled",
        agoMilliseconds: 30 * minute,
      }),
      makeEvent({
        name: "e2",
        namespace: "shop",
        object: { kind: "Pod", name: "web-2", uid: "uid-web-2" },
        reason: "BackOff",
        message: "Back-off restarting failed container app",
        type: "Warning",
        count: 12,
        agoMilliseconds: 2 * minute,
      }),
      makeEvent({
        name: "e3",
        namespace: "shop",
        object: { kind: "Pod", name: "web-1", uid: "uid-web-1" },
        reason: "Started",
        message: "not about web-2",
        agoMilliseconds: minute,
      }),
    ]);
    const result = await runTool(
      describeResourceTool,
      { resource: "pods", name: "web-2", namespace: "shop" },
      testContext([cluster]),
    );
    expect(result.text).toContain("Name: web-2");
    expect(result.text).toContain("Status: CrashLoopBackOff");
    expect(result.text).toContain("Image: registry.example.com/team/app:1.4.2");
    expect(result.text).toContain("State: Waiting (CrashLoopBackOff)");
    expect(result.text).toMatch(/Ready\s+False/);
    expect(result.text).not.toContain("managedFields");
    const events = result.text.slice(result.text.indexOf("Events:"));
    expect(events).toMatch(/Pulled[\s\S]*BackOff/);
    expect(events).toContain("Back-off restarting failed container app");
    expect(events).not.toContain("not about web-2");
    const selector = cluster.callsTo("list")[0]?.arguments[1] as { fieldSelector: string; namespace: string };
    expect(selector.namespace).toBe("shop");
    expect(selector.fieldSelector).toContain("involvedObject.name=web-2");
    expect(selector.fieldSelector).toContain("involvedObject.namespace=shop");
    expect(selector.fieldSelector).toContain("involvedObject.kind=Pod");
  });

  it("shows replicas and images for workloads and only the 20 most recent events", async () => {
    const deployment = makeDeployment("web", "shop", 3, 2);
    deployment.metadata = { ...deployment.metadata, uid: "uid-deploy" };
    const events = Array.from({ length: 30 }, (_, index) =>
      makeEvent({
        name: `scaled-${index}`,
        namespace: "shop",
        object: { kind: "Deployment", name: "web", uid: "uid-deploy" },
        reason: "ScalingReplicaSet",
        message: `event number ${index}.`,
        agoMilliseconds: (30 - index) * minute,
      }),
    );
    const cluster = new InMemoryCluster({ name: "dev", objects: [deployment, ...events] });
    const result = await runTool(
      describeResourceTool,
      { resource: "deploy", name: "web", namespace: "shop" },
      testContext([cluster]),
    );
    expect(result.text).toContain("Replicas: 3 desired, 3 updated, 2 ready, 2 available");
    expect(result.text).toContain("app: registry.example.com/web:2.0.0");
    expect(result.text).toContain("Events (the 20 most recent of 30");
    expect(result.text).toContain("event number 29.");
    expect(result.text).toContain("event number 10.");
    expect(result.text).not.toContain("event number 9.");
    // Oldest first, like kubectl: the last line is the latest news.
    expect(result.text.trimEnd().split("\n").at(-1)).toContain("event number 29.");
    expect(result.text).not.toContain("last-applied-configuration");
  });

  it("leaves out events about an earlier object of the same name", async () => {
    const cluster = sampleCluster([
      makeEvent({
        name: "old",
        namespace: "shop",
        object: { kind: "Pod", name: "web-1", uid: "uid-of-a-deleted-pod" },
        reason: "Killing",
        message: "from an earlier life",
        agoMilliseconds: minute,
      }),
    ]);
    const result = await runTool(
      describeResourceTool,
      { resource: "pods", name: "web-1", namespace: "shop" },
      testContext([cluster]),
    );
    expect(result.text).not.toContain("from an earlier life");
  });

  it("still describes the object when its events cannot be listed", async () => {
    const cluster = sampleCluster();
    cluster.list = async () => {
      throw new GatewayError("forbidden", 'You may not list events in namespace "shop".');
    };
    const result = await runTool(
      describeResourceTool,
      { resource: "pods", name: "web-1", namespace: "shop" },
      testContext([cluster]),
    );
    expect(result.text).toContain("Name: web-1");
    expect(result.text).toContain("Controlled by: ReplicaSet/web-7d9f8b6c4d");
    expect(result.text).toContain('Events: could not be listed (You may not list events in namespace "shop".)');
  });

  it("shows spec and status of custom resources such as Cluster API clusters", async () => {
    const cluster = sampleCluster([
      {
        apiVersion: "cluster.x-k8s.io/v1beta2",
        kind: "Cluster",
        metadata: { name: "prod", namespace: "org-acme", creationTimestamp: ago(minute) },
        spec: { topology: { version: "v1.31.0" } },
        status: { phase: "Provisioned", conditions: [{ type: "Available", status: "True", reason: "Ready" }] },
      },
    ]);
    const result = await runTool(
      describeResourceTool,
      { resource: "clusters.cluster.x-k8s.io", name: "prod", namespace: "org-acme" },
      testContext([cluster]),
    );
    expect(result.text).toContain("Phase: Provisioned");
    expect(result.text).toContain("version: v1.31.0");
    expect(result.text).toMatch(/Available\s+True\s+Ready/);
    expect(result.text).toContain("Events: <none>");
  });

  it("works with the session's current cluster when none is named", async () => {
    const session = newSession();
    session.currentCluster = "prod";
    const prod = new InMemoryCluster({ name: "prod", objects: [makePod({ name: "only-in-prod" })] });
    const result = await runTool(
      describeResourceTool,
      { resource: "pods", name: "only-in-prod" },
      testContext([sampleCluster(), prod], { session }),
    );
    expect(result.target?.cluster).toBe("prod");
  });
});
