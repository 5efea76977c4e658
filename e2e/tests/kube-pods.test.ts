// packages/kube's pod operations through real API servers to the fleet's stand-in kubelet: logs
// with their bounds, exec over the WebSocket channel protocol with real exit codes, time and
// size limits, and port-forward from a loopback listener, all authorized by the API server.
import { randomBytes } from "node:crypto";
import { createConnection } from "node:net";
import type { PortForwardHandle } from "@capi-mcp/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetInfo } from "../fleet/fleet.ts";
import { loginAs } from "../fleet/login.ts";
import { tcpRoundTrip } from "../fleet/tcp.ts";
import { auditEventsMatching, createAccessFactory, failureOf, fleetInfo } from "../fleet/test-context.ts";

let info: FleetInfo;
const clusters = createAccessFactory();
const accessTo = clusters.accessTo;
const handles: PortForwardHandle[] = [];
const frontendPod = "frontend-5d8f7c9b6-k2x4p";
const restartedPod = "frontend-5d8f7c9b6-q7m9z";

beforeAll(async () => {
  info = await fleetInfo();
});

afterAll(async () => {
  for (const handle of handles) await handle.close();
  await clusters.closeAll();
});

const aliceImpersonated = { user: "alice@example.com", groups: ["acme-dev"] };

describe("pod logs", () => {
  it("returns the last lines of a container's log", async () => {
    const access = await accessTo("org-acme/dev");
    const logs = await access.logs({
      namespace: "web",
      pod: frontendPod,
      container: "nginx",
      tailLines: 5,
      limitBytes: 100_000,
    });
    const lines = logs.text.trim().split("\n");
    expect(lines).toHaveLength(5);
    expect(lines[4]).toContain(`org-acme/dev web/${frontendPod}/nginx request 200`);
    expect(logs.truncated).toBe(false);
  });

  it("adds timestamps and filters by age when asked", async () => {
    const access = await accessTo("org-acme/dev");
    const logs = await access.logs({
      namespace: "web",
      pod: frontendPod,
      sinceSeconds: 25,
      timestamps: true,
      limitBytes: 100_000,
    });
    const lines = logs.text.trim().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.length).toBeLessThanOrEqual(4);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO /);
  });

  it("returns a restarted container's previous log, and a clear error where there is none", async () => {
    const access = await accessTo("org-acme/dev");
    const previous = await access.logs({ namespace: "web", pod: restartedPod, previous: true, limitBytes: 10_000 });
    expect(previous.text).toContain("out of memory");
    const error = await failureOf(
      access.logs({ namespace: "web", pod: frontendPod, previous: true, limitBytes: 10_000 }),
    );
    expect(error.code).toBe("invalid_input");
    expect(error.message).toContain("previous terminated container");
  });

  it("cuts the log at limitBytes and says so; a log that fits is not marked truncated", async () => {
    const access = await accessTo("org-acme/dev");
    const cut = await access.logs({ namespace: "web", pod: frontendPod, limitBytes: 100 });
    expect(Buffer.byteLength(cut.text)).toBeLessThanOrEqual(100);
    expect(Buffer.byteLength(cut.text)).toBeGreaterThan(90);
    expect(cut.truncated).toBe(true);
    const whole = await access.logs({ namespace: "web", pod: frontendPod, tailLines: 1, limitBytes: 100_000 });
    const exact = await access.logs({
      namespace: "web",
      pod: frontendPod,
      tailLines: 1,
      limitBytes: Buffer.byteLength(whole.text),
    });
    expect(exact).toEqual({ text: whole.text, truncated: false });
  });

  it("names a missing pod, and refuses a user without pods/log without naming her", async () => {
    const admin = await accessTo("org-acme/prod");
    const missing = await failureOf(admin.logs({ namespace: "web", pod: "no-such-pod", limitBytes: 1000 }));
    expect(missing.code).toBe("not_found");
    expect(missing.message).toBe('pods "no-such-pod" not found in namespace "web" on cluster org-acme/prod.');
    const alice = await accessTo("org-acme/prod", { impersonate: aliceImpersonated });
    const error = await failureOf(
      alice.logs({ namespace: "payments", pod: "ledger-7f6b5c4d3-w8n2r", limitBytes: 1000 }),
    );
    expect(error.code).toBe("forbidden");
    expect(error.message).toBe(
      'Forbidden: you may not get pods/log "ledger-7f6b5c4d3-w8n2r" in namespace payments on cluster org-acme/prod.',
    );
  });
});

describe("exec", () => {
  it("returns stdout and stderr separately with the real exit code", async () => {
    const access = await accessTo("org-globex/prod");
    const failed = await access.exec({
      namespace: "web",
      pod: frontendPod,
      container: "nginx",
      command: ["sh", "-c", "echo out; echo err >&2; exit 3"],
      timeoutMilliseconds: 10_000,
      maxOutputBytes: 10_000,
    });
    expect(failed).toEqual({ stdout: "out\n", stderr: "err\n", exitCode: 3, truncated: false, timedOut: false });
    const ok = await access.exec({
      namespace: "web",
      pod: frontendPod,
      command: ["cat", "/app/config.yaml"],
      timeoutMilliseconds: 10_000,
      maxOutputBytes: 10_000,
    });
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toContain("cluster: org-globex/prod");
    const missing = await access.exec({
      namespace: "web",
      pod: frontendPod,
      command: ["no-such-command"],
      timeoutMilliseconds: 10_000,
      maxOutputBytes: 10_000,
    });
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toContain("command not found");
  });

  it("stops a command at the time limit and reports no exit code rather than a fake one", async () => {
    const access = await accessTo("org-acme/dev");
    const started = performance.now();
    const result = await access.exec({
      namespace: "web",
      pod: frontendPod,
      command: ["sleep", "5"],
      timeoutMilliseconds: 500,
      maxOutputBytes: 10_000,
    });
    const elapsed = performance.now() - started;
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBeUndefined();
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(2_000);
  });

  it("stops collecting at maxOutputBytes across stdout and stderr, and says so", async () => {
    const access = await accessTo("org-acme/dev");
    const result = await access.exec({
      namespace: "web",
      pod: frontendPod,
      command: ["seq", "100000"],
      timeoutMilliseconds: 10_000,
      maxOutputBytes: 1_000,
    });
    expect(result.truncated).toBe(true);
    expect(result.timedOut).toBe(false);
    expect(result.exitCode).toBeUndefined();
    expect(Buffer.byteLength(result.stdout) + Buffer.byteLength(result.stderr)).toBeLessThanOrEqual(1_000);
    expect(result.stdout.startsWith("1\n2\n3\n")).toBe(true);
    expect(result.stdout.length).toBeGreaterThan(900);
  });

  it("sends stdin; under v4 (the fleet's kubelet) end of input cannot be signalled, so cat runs to the limit", async () => {
    const access = await accessTo("org-acme/dev");
    const result = await access.exec({
      namespace: "web",
      pod: frontendPod,
      command: ["cat"],
      stdin: "from stdin\n",
      timeoutMilliseconds: 1_000,
      maxOutputBytes: 10_000,
    });
    expect(result.stdout).toBe("from stdin\n");
    expect(result.timedOut).toBe(true);
  });

  it("maps a refused upgrade like a REST call: forbidden without the user's name, and audited as her", async () => {
    const alice = await loginAs(info, "alice");
    const marker = `kube-exec-${randomBytes(6).toString("hex")}`;
    const twoGroups = { ...aliceImpersonated, groups: ["acme-dev", "acme-readers"] };
    for (const identity of [{ bearerToken: alice.idToken }, { impersonate: twoGroups }]) {
      const access = await accessTo("org-acme/prod", identity);
      const error = await failureOf(
        access.exec({
          namespace: "web",
          pod: frontendPod,
          command: ["echo", marker],
          timeoutMilliseconds: 10_000,
          maxOutputBytes: 1_000,
        }),
      );
      expect(error.code).toBe("forbidden");
      expect(error.message).toBe(
        `Forbidden: you may not create pods/exec "${frontendPod}" in namespace web on cluster org-acme/prod.`,
      );
      expect(error.message).not.toContain("alice");
    }
    const events = await auditEventsMatching(info, "org-acme/prod", marker);
    const impersonated = events.find((event) => event.impersonatedUser?.username === "alice@example.com");
    expect(impersonated?.responseStatus?.code).toBe(403);
    // Each group arrives as its own value: the WebSocket handshake repeats the header line.
    expect(impersonated?.impersonatedUser?.groups).toEqual(expect.arrayContaining(["acme-dev", "acme-readers"]));
  });

  it("names a missing pod and a wrong container", async () => {
    const access = await accessTo("org-acme/dev");
    const missing = await failureOf(
      access.exec({
        namespace: "web",
        pod: "no-such-pod",
        command: ["true"],
        timeoutMilliseconds: 10_000,
        maxOutputBytes: 100,
      }),
    );
    expect(missing.code).toBe("not_found");
    expect(missing.message).toContain('pods "no-such-pod" not found');
    const container = await failureOf(
      access.exec({
        namespace: "web",
        pod: frontendPod,
        container: "sidecar",
        command: ["true"],
        timeoutMilliseconds: 10_000,
        maxOutputBytes: 100,
      }),
    );
    expect(container.code).toBe("invalid_input");
    expect(container.message).toContain("sidecar");
  });
});

describe("port-forward", () => {
  it("carries TCP round trips and HTTP from 127.0.0.1 to the pod's port, each connection on its own stream", async () => {
    const access = await accessTo("org-acme/dev");
    const handle = await access.portForward({ namespace: "web", pod: frontendPod, port: 8080 });
    handles.push(handle);
    expect(handle).toMatchObject({ namespace: "web", pod: frontendPod, remotePort: 8080, localAddress: "127.0.0.1" });
    expect(handle.localPort).toBeGreaterThan(0);
    const marker = `ping ${randomBytes(4).toString("hex")}`;
    const [first, second] = await Promise.all([
      tcpRoundTrip(handle.localPort, `${marker} one`),
      tcpRoundTrip(handle.localPort, `${marker} two`),
    ]);
    expect(first).toBe(`${marker} one`);
    expect(second).toBe(`${marker} two`);
    const response = await fetch(`http://127.0.0.1:${handle.localPort}/`);
    expect(await response.text()).toBe(`hello from org-acme/dev web/${frontendPod} port 8080\n`);
    const events = await auditEventsMatching(info, "org-acme/dev", `/pods/${frontendPod}/portforward`);
    expect(events.some((event) => event.objectRef?.subresource === "portforward")).toBe(true);
  });

  it("stops listening and drops its connections on close", async () => {
    const access = await accessTo("org-acme/dev");
    const handle = await access.portForward({ namespace: "web", pod: frontendPod, port: 8080 });
    const open = createConnection({ host: "127.0.0.1", port: handle.localPort });
    await new Promise((resolve) => open.once("connect", resolve));
    const closed = new Promise((resolve) => open.once("close", resolve));
    await handle.close();
    await closed;
    await expect(tcpRoundTrip(handle.localPort, "after close")).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("closes a connection whose port the kubelet cannot reach, keeping the listener for the next", async () => {
    const access = await accessTo("org-acme/dev");
    const handle = await access.portForward({ namespace: "web", pod: frontendPod, port: 9999 });
    handles.push(handle);
    expect(await tcpRoundTrip(handle.localPort, "anyone there?")).toBe("");
    expect(await tcpRoundTrip(handle.localPort, "still no one?")).toBe("");
  });

  it("is refused before listening to a user who may not port-forward, without naming her", async () => {
    const access = await accessTo("org-acme/prod", { impersonate: aliceImpersonated });
    const error = await failureOf(access.portForward({ namespace: "web", pod: frontendPod, port: 8080 }));
    expect(error.code).toBe("forbidden");
    expect(error.message).toBe(
      `Forbidden: you may not port-forward to pod ${frontendPod} in namespace web on cluster org-acme/prod.`,
    );
  });

  it("refuses a local port that is already taken", async () => {
    const access = await accessTo("org-acme/dev");
    const first = await access.portForward({ namespace: "web", pod: frontendPod, port: 8080 });
    handles.push(first);
    const error = await failureOf(
      access.portForward({ namespace: "web", pod: frontendPod, port: 8080, localPort: first.localPort }),
    );
    expect(error.code).toBe("invalid_input");
    expect(error.message).toContain(`${first.localPort}`);
  });
});
