import { describe, expect, it } from "vitest";
import { makePod, makeService } from "../testing/fixtures.js";
import { InMemoryCluster } from "../testing/in-memory-cluster.js";
import { runTool } from "../testing/run-tool.js";
import { newSession, testContext } from "../testing/test-context.js";
import { listPortForwardsTool } from "./list-port-forwards.js";
import { portForwardPodTool } from "./port-forward-pod.js";
import { portForwardServiceTool } from "./port-forward-service.js";
import { stopPortForwardTool } from "./stop-port-forward.js";

const webContainers = [{ name: "app", image: "web:1", ports: [{ name: "http", containerPort: 8080 }] }];

function cluster(): InMemoryCluster {
  return new InMemoryCluster({
    name: "dev",
    objects: [
      makePod({ name: "web-b", namespace: "shop", labels: { app: "web" }, containers: webContainers }),
      makePod({ name: "web-a", namespace: "shop", labels: { app: "web" }, containers: webContainers, ready: false }),
      makePod({ name: "web-c", namespace: "shop", labels: { app: "web" }, containers: webContainers }),
      makePod({ name: "other", namespace: "shop", labels: { app: "other" } }),
      makeService("web", "shop", {
        selector: { app: "web" },
        ports: [
          { name: "http", port: 80, targetPort: "http" },
          { name: "metrics", port: 9090, targetPort: 9091 },
          { name: "nameless", port: 7000, targetPort: "grpc" },
        ],
      }),
      makeService("external", "shop", { ports: [{ port: 443 }] }),
      makeService("down", "shop", { selector: { app: "other-down" }, ports: [{ port: 80, targetPort: 80 }] }),
    ],
  });
}

describe("k8s_port_forward_pod", () => {
  it("opens a forward, registers it in the session and says where to connect and how to stop it", async () => {
    const dev = cluster();
    const session = newSession();
    const result = await runTool(
      portForwardPodTool,
      { name: "web-b", namespace: "shop", port: 8080, localPort: 18080 },
      testContext([dev], { session }),
    );
    expect(dev.callsTo("portForward")[0]?.arguments[0]).toEqual({
      namespace: "shop",
      pod: "web-b",
      port: 8080,
      localPort: 18080,
    });
    const [entry] = session.portForwards.list();
    expect(entry?.cluster).toBe("dev");
    expect(result.text).toContain("Forwarding 127.0.0.1:18080 → pod shop/web-b port 8080 on cluster dev.");
    expect(result.text).toContain(`k8s_stop_port_forward with id "${entry?.id}"`);
    expect(result.structured).toMatchObject({ id: entry?.id, localPort: 18080 });
  });

  it("refuses privileged local ports", () => {
    expect(portForwardPodTool.input.safeParse({ name: "p", port: 80, localPort: 80 }).success).toBe(false);
  });
});

describe("k8s_port_forward_service", () => {
  it("maps a named targetPort through the first ready pod's container ports", async () => {
    const dev = cluster();
    const result = await runTool(
      portForwardServiceTool,
      { name: "web", namespace: "shop", port: 80 },
      testContext([dev]),
    );
    expect(dev.callsTo("list")[0]?.arguments[1]).toMatchObject({ namespace: "shop", labelSelector: "app=web" });
    expect(dev.callsTo("portForward")[0]?.arguments[0]).toMatchObject({ pod: "web-b", port: 8080 });
    expect(result.text).toContain("→ pod shop/web-b port 8080 (via service web port 80)");
  });

  it("accepts the service port by name and uses a numeric targetPort as is", async () => {
    const dev = cluster();
    await runTool(portForwardServiceTool, { name: "web", namespace: "shop", port: "metrics" }, testContext([dev]));
    expect(dev.callsTo("portForward")[0]?.arguments[0]).toMatchObject({ pod: "web-b", port: 9091 });
  });

  it("lists the service's ports when the asked one does not exist", async () => {
    const call = runTool(
      portForwardServiceTool,
      { name: "web", namespace: "shop", port: 81 },
      testContext([cluster()]),
    );
    await expect(call).rejects.toMatchObject({
      code: "invalid_input",
      message: expect.stringContaining("Its ports: 80 (http), 9090 (metrics), 7000 (nameless)"),
    });
  });

  it("explains a service without a selector", async () => {
    const call = runTool(
      portForwardServiceTool,
      { name: "external", namespace: "shop", port: 443 },
      testContext([cluster()]),
    );
    await expect(call).rejects.toMatchObject({
      code: "invalid_input",
      message: expect.stringContaining("k8s_port_forward_pod"),
    });
  });

  it("explains when no selected pod is running and ready", async () => {
    const call = runTool(
      portForwardServiceTool,
      { name: "down", namespace: "shop", port: 80 },
      testContext([cluster()]),
    );
    await expect(call).rejects.toMatchObject({
      code: "unavailable",
      message: expect.stringContaining("none is Running and Ready"),
    });
  });

  it("explains a named targetPort the pod does not declare", async () => {
    const call = runTool(
      portForwardServiceTool,
      { name: "web", namespace: "shop", port: 7000 },
      testContext([cluster()]),
    );
    await expect(call).rejects.toMatchObject({ code: "invalid_input", message: expect.stringContaining('"grpc"') });
  });
});

describe("the session's port-forward registry", () => {
  it("lists, stops and forgets forwards of this session only", async () => {
    const dev = cluster();
    const mine = newSession("mine");
    const theirs = newSession("theirs");
    const first = await runTool(
      portForwardPodTool,
      { name: "web-b", namespace: "shop", port: 8080 },
      testContext([dev], { session: mine }),
    );
    await runTool(
      portForwardServiceTool,
      { name: "web", namespace: "shop", port: 80 },
      testContext([dev], { session: mine }),
    );
    await runTool(
      portForwardPodTool,
      { name: "web-c", namespace: "shop", port: 8080 },
      testContext([dev], { session: theirs }),
    );

    const listed = await runTool(listPortForwardsTool, {}, testContext([dev], { session: mine }));
    expect(listed.text.split("\n")[0]?.split(/\s+/)).toEqual(["ID", "LOCAL", "CLUSTER", "POD", "PORT", "AGE"]);
    expect(listed.text).toContain("2 port-forwards open");
    expect(listed.text).not.toContain("web-c");

    const id = String(first.structured?.id);
    const stopped = await runTool(stopPortForwardTool, { id }, testContext([dev], { session: mine }));
    expect(stopped.text).toContain(`Stopped port-forward ${id}`);
    expect(dev.closedPortForwards.map((handle) => handle.pod)).toEqual(["web-b"]);
    expect(mine.portForwards.list()).toHaveLength(1);
    expect(theirs.portForwards.list()).toHaveLength(1);

    await expect(runTool(stopPortForwardTool, { id }, testContext([dev], { session: mine }))).rejects.toMatchObject({
      code: "not_found",
      message: expect.stringContaining("k8s_list_port_forwards"),
    });
    const theirId = theirs.portForwards.list()[0]?.id ?? "";
    await expect(
      runTool(stopPortForwardTool, { id: theirId === id ? "pf-x" : theirId }, testContext([dev], { session: mine })),
    ).rejects.toMatchObject({ code: "not_found" });
  });

  it("says how to start one when none is open, and filters by cluster", async () => {
    const empty = await runTool(listPortForwardsTool, {}, testContext([cluster()]));
    expect(empty.text).toContain("No port-forwards are open in this session");
    const dev = cluster();
    const session = newSession();
    await runTool(
      portForwardPodTool,
      { name: "web-b", namespace: "shop", port: 8080 },
      testContext([dev], { session }),
    );
    const filtered = await runTool(listPortForwardsTool, { cluster: "prod" }, testContext([dev], { session }));
    expect(filtered.text).toContain("No port-forwards");
  });
});
