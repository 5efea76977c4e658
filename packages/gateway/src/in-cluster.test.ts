// --in-cluster: the service-account mount as the kubelet lays it out (a `..data` symlink swapped
// atomically on every refresh), and a stand-in API server on loopback (HTTPS with a throw-away
// certificate from the machine's openssl) that records which bearer token each request carried.
// The real management API server with a TokenRequest token is exercised in
// e2e/tests/chart-install.test.ts.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { createKubeConnection } from "@capi-mcp/kube";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { loadInClusterKubeConfig, tokenFileRereadMilliseconds } from "./in-cluster.js";

const run = promisify(execFile);

/** A throw-away self-signed CA certificate for 127.0.0.1 from the machine's openssl. */
async function selfSignedCa(commonName: string, keyFile: string, certFile: string): Promise<void> {
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "1",
    "-subj",
    `/CN=${commonName}`,
    "-addext",
    "subjectAltName=IP:127.0.0.1",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-keyout",
    keyFile,
    "-out",
    certFile,
  ]);
}

let scratch: string;
let server: Server;
let port: number;
let caPem: string;
const seen: (string | undefined)[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "capi-mcp-in-cluster-"));
  const certFile = path.join(scratch, "server.crt");
  const keyFile = path.join(scratch, "server.key");
  await selfSignedCa("stand-in API server", keyFile, certFile);
  caPem = await readFile(certFile, "utf8");
  server = createServer({ cert: caPem, key: await readFile(keyFile, "utf8") }, (request, response) => {
    seen.push(request.headers.authorization);
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ kind: "Namespace", apiVersion: "v1", metadata: { name: "default" } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(scratch, { recursive: true, force: true });
});

afterEach(() => {
  vi.useRealTimers();
  seen.length = 0;
});

let generation = 0;

/** What the kubelet does on each refresh: a new timestamped directory, then `..data` renamed onto it. */
async function kubeletWrites(directory: string, token: string): Promise<void> {
  generation += 1;
  const data = `..${generation}`;
  await mkdir(path.join(directory, data), { recursive: true });
  await writeFile(path.join(directory, data, "token"), token);
  await writeFile(path.join(directory, data, "ca.crt"), caPem);
  await writeFile(path.join(directory, data, "namespace"), "capi-mcp-system");
  await symlink(data, path.join(directory, "..data_tmp"));
  await rename(path.join(directory, "..data_tmp"), path.join(directory, "..data"));
}

async function mountedServiceAccount(token: string): Promise<string> {
  const directory = await mkdtemp(path.join(scratch, "serviceaccount-"));
  await kubeletWrites(directory, token);
  for (const name of ["token", "ca.crt", "namespace"]) {
    await symlink(path.join("..data", name), path.join(directory, name));
  }
  return directory;
}

const environment = () => ({ KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: String(port) });

describe("the in-cluster service account", () => {
  it("follows a rotated projected token without a restart, within a minute of the kubelet's swap", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const directory = await mountedServiceAccount("token-before-rotation");
    const kubeConfig = loadInClusterKubeConfig(environment(), directory);
    expect(kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace).toBe("capi-mcp-system");
    const connection = createKubeConnection({ kubeConfig });
    try {
      await connection.request({ method: "GET", path: "/api/v1/namespaces/default" });
      await kubeletWrites(directory, "token-after-rotation");
      // Within the re-read period the token read last is still used (it stays valid: the kubelet
      // rotates at 80% of its lifetime).
      vi.advanceTimersByTime(tokenFileRereadMilliseconds - 5_000);
      await connection.request({ method: "GET", path: "/api/v1/namespaces/default" });
      vi.advanceTimersByTime(10_000);
      await connection.request({ method: "GET", path: "/api/v1/namespaces/default" });
      await connection.request({ method: "GET", path: "/api/v1/namespaces/default" });
      expect(seen).toEqual([
        "Bearer token-before-rotation",
        "Bearer token-before-rotation",
        "Bearer token-after-rotation",
        "Bearer token-after-rotation",
      ]);
    } finally {
      await connection.close();
    }
  });

  it("trusts the mounted CA, not the system's: a server the CA did not sign is refused", async () => {
    const directory = await mountedServiceAccount("some-token");
    // Another self-signed CA in place of the one that signed the stand-in's certificate.
    const otherKey = path.join(scratch, "other.key");
    const otherCert = path.join(scratch, "other.crt");
    await selfSignedCa("other", otherKey, otherCert);
    await writeFile(path.join(directory, `..${generation}`, "ca.crt"), await readFile(otherCert, "utf8"));
    const connection = createKubeConnection({ kubeConfig: loadInClusterKubeConfig(environment(), directory) });
    try {
      await expect(connection.request({ method: "GET", path: "/api/v1/namespaces/default" })).rejects.toThrow();
      expect(seen).toEqual([]);
    } finally {
      await connection.close();
    }
  });

  it("outside a pod says what is missing instead of calling an undefined address", async () => {
    expect(() => loadInClusterKubeConfig({}, scratch)).toThrow(
      /KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set/,
    );
    expect(() =>
      loadInClusterKubeConfig({ KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "https" }, scratch),
    ).toThrow(/KUBERNETES_SERVICE_PORT is not a port number/);
    const empty = await mkdtemp(path.join(scratch, "no-token-"));
    expect(() => loadInClusterKubeConfig(environment(), empty)).toThrow(
      new RegExp(`${path.join(empty, "token").replaceAll("/", "\\/")} is missing or unreadable`),
    );
  });

  it("brackets an IPv6 service address", async () => {
    const directory = await mountedServiceAccount("some-token");
    const kubeConfig = loadInClusterKubeConfig(
      { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" },
      directory,
    );
    expect(kubeConfig.getCurrentCluster()?.server).toBe("https://[fd00::1]:443");
  });
});
