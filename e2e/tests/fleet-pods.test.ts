// Pod logs, exec and port-forward go through the real API server (authentication, RBAC, audit,
// proxying) to the fleet's stand-in kubelet, exactly the path the gateway's calls will take.
import { once } from "node:events";
import { type AddressInfo, createConnection, createServer } from "node:net";
import { PassThrough, Writable } from "node:stream";
import * as k8s from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import type { FleetInfo } from "../fleet/fleet.ts";
import { loginAs } from "../fleet/login.ts";
import { auditEventsMatching, fleetInfo, kubeConfigFor } from "../fleet/test-context.ts";

let info: FleetInfo;
beforeAll(async () => {
  info = await fleetInfo();
});

const frontendPod = "frontend-5d8f7c9b6-k2x4p";
const restartedPod = "frontend-5d8f7c9b6-q7m9z";

function collector() {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      callback();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

async function execute(config: k8s.KubeConfig, cluster: string, pod: string, container: string, command: string[]) {
  const stdout = collector();
  const stderr = collector();
  const status = await new Promise<k8s.V1Status>((resolve, reject) => {
    new k8s.Exec(config)
      .exec("web", pod, container, command, stdout.stream, stderr.stream, null, false, (result) => resolve(result))
      .catch(reject);
    setTimeout(() => reject(new Error(`exec on ${cluster} timed out`)), 15_000).unref();
  });
  return { status, stdout: stdout.text(), stderr: stderr.text() };
}

describe("the fleet's nodes and pods", () => {
  it("registers a Ready node whose kubelet endpoint is the stand-in, with sample pods Running on it", async () => {
    const config = await kubeConfigFor(info, "org-acme/prod");
    const core = config.makeApiClient(k8s.CoreV1Api);
    const node = await core.readNode({ name: "worker-1" });
    expect(node.status?.conditions?.find((condition) => condition.type === "Ready")?.status).toBe("True");
    const workload = info.workloadClusters.find(
      (cluster) => cluster.name === "prod" && cluster.namespace === "org-acme",
    );
    expect(node.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBe(workload?.kubeletPort);
    const pods = await core.listPodForAllNamespaces();
    expect(pods.items.length).toBe(3);
    for (const pod of pods.items) {
      expect(pod.spec?.nodeName).toBe("worker-1");
      expect(pod.status?.phase).toBe("Running");
    }
  });
});

describe("pod logs through the API server", () => {
  it("returns the container's log lines, naming the cluster, bounded by tailLines", async () => {
    const core = (await kubeConfigFor(info, "org-acme/dev")).makeApiClient(k8s.CoreV1Api);
    const logs = await core.readNamespacedPodLog({
      namespace: "web",
      name: frontendPod,
      container: "nginx",
      tailLines: 5,
    });
    const lines = logs.trim().split("\n");
    expect(lines).toHaveLength(5);
    expect(lines[4]).toContain(`org-acme/dev web/${frontendPod}/nginx request 200`);
  });

  it("returns a restarted container's previous logs, and a clear error where there is no previous container", async () => {
    const core = (await kubeConfigFor(info, "org-acme/dev")).makeApiClient(k8s.CoreV1Api);
    const previous = await core.readNamespacedPodLog({
      namespace: "web",
      name: restartedPod,
      container: "nginx",
      previous: true,
    });
    expect(previous).toContain("out of memory");
    await expect(
      core.readNamespacedPodLog({ namespace: "web", name: frontendPod, container: "nginx", previous: true }),
    ).rejects.toMatchObject({
      code: 400,
    });
  });

  it("is refused to a user without pods/log in that namespace, and allowed to one with it", async () => {
    const alice = await loginAs(info, "alice");
    const prod = (await kubeConfigFor(info, "org-acme/prod", alice.idToken)).makeApiClient(k8s.CoreV1Api);
    // view includes pods/log in web on prod; payments is out of alice's reach there.
    await expect(prod.readNamespacedPodLog({ namespace: "web", name: frontendPod, tailLines: 1 })).resolves.toContain(
      "org-acme/prod",
    );
    await expect(
      prod.readNamespacedPodLog({ namespace: "payments", name: "ledger-7f6b5c4d3-w8n2r", container: "ledger" }),
    ).rejects.toMatchObject({
      code: 403,
    });
  });
});

describe("exec through the API server", () => {
  it("streams stdout and stderr separately and reports the real exit code", async () => {
    const config = await kubeConfigFor(info, "org-globex/prod");
    const result = await execute(config, "org-globex/prod", frontendPod, "nginx", [
      "sh",
      "-c",
      "echo out; echo err >&2; exit 3",
    ]);
    expect(result.stdout).toBe("out\n");
    expect(result.stderr).toBe("err\n");
    expect(result.status.status).toBe("Failure");
    expect(result.status.reason).toBe("NonZeroExitCode");
    expect(result.status.details?.causes?.[0]).toMatchObject({ reason: "ExitCode", message: "3" });

    const ok = await execute(config, "org-globex/prod", frontendPod, "nginx", ["cat", "/app/config.yaml"]);
    expect(ok.status.status).toBe("Success");
    expect(ok.stdout).toContain("cluster: org-globex/prod");
  });

  it("is authorized by the API server: alice, read-only on org-acme/prod, may not exec there, and the attempt is audited", async () => {
    const alice = await loginAs(info, "alice");
    const config = await kubeConfigFor(info, "org-acme/prod", alice.idToken);
    await expect(execute(config, "org-acme/prod", frontendPod, "nginx", ["hostname"])).rejects.toThrow();
    const events = await auditEventsMatching(info, "org-acme/prod", `/pods/${frontendPod}/exec`);
    const denied = events.find((event) => event.user.username === "alice@example.com");
    expect(denied?.responseStatus?.code).toBe(403);
    expect(denied?.objectRef?.subresource).toBe("exec");
  });
});

describe("port-forward through the API server", () => {
  it("carries a TCP round trip from a local listener to the pod's port and back", async () => {
    const config = await kubeConfigFor(info, "org-acme/dev");
    const forward = new k8s.PortForward(config);
    const server = createServer((socket) => {
      forward.portForward("web", frontendPod, [8080], socket, null, socket).catch(() => socket.destroy());
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    try {
      const echoed = await new Promise<string>((resolve, reject) => {
        const socket = createConnection({ host: "127.0.0.1", port }, () => socket.write("ping through the fleet"));
        const received = new PassThrough();
        socket.on("data", (data: Buffer) => {
          received.write(data);
          const text = received.read()?.toString("utf8") as string | undefined;
          if (text) {
            socket.end();
            resolve(text);
          }
        });
        socket.on("error", reject);
        setTimeout(() => reject(new Error("no answer through the port-forward")), 10_000).unref();
      });
      expect(echoed).toBe("ping through the fleet");

      const response = await fetch(`http://127.0.0.1:${port}/`);
      expect(await response.text()).toBe(`hello from org-acme/dev web/${frontendPod} port 8080\n`);
    } finally {
      server.close();
    }
    const events = await auditEventsMatching(info, "org-acme/dev", `/pods/${frontendPod}/portforward`);
    expect(events.some((event) => event.objectRef?.subresource === "portforward")).toBe(true);
  });
});
