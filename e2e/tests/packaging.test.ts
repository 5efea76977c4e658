// The two artifacts a user runs without this repository, proven on the fleet:
// - the container image. No image builds here (no Docker engine), so this test performs the
//   image's production install (packaging/install-production.sh, the script the Dockerfile runs)
//   and runs it the way the Dockerfile configures the image: in a private mount namespace where
//   the install sits at the image's path, Node 24 at the base image's /usr/local/bin, the whole
//   root file system is read-only but for a fresh /tmp, and the process runs as the Dockerfile's
//   non-root uid with the Dockerfile's environment, working directory and entry point;
// - the npm package (packaging/pack-npm.sh): one tarball, installed into an empty folder with an
//   empty npm cache, run by name with Node 24 on PATH, serving stdio.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import {
  access,
  chmod,
  chown,
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetInfo } from "../fleet/fleet.ts";
import { freePorts } from "../fleet/processes.ts";
import { fleetInfo } from "../fleet/test-context.ts";
import { resultText } from "../gateway/harness.ts";
import { mountTmpfsKeeping } from "../gateway/tmpfs-keeping.ts";

const run = promisify(execFile);
const repo = fileURLToPath(new URL("../../", import.meta.url));
/** Node 24 from the `node` devDependency: what the base image has at /usr/local/bin/node. */
const node = process.execPath;
const nodeDirectory = path.dirname(node);
/** The mount namespace and the uid switch need root; elsewhere, sudo without a password prompt. */
const privileged = process.getuid?.() === 0 ? [] : ["sudo", "-n"];
/** PATH in node:24-bookworm-slim before the Dockerfile's ENV. */
const basePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/**
 * Packages the build and the tests need, and production must not carry. (@types/node is not
 * here: @kubernetes/client-node declares it as a dependency of its own, so npm installs it.)
 */
const devOnly = [
  "vitest",
  "typescript",
  "@biomejs/biome",
  "turbo",
  "node",
  "oidc-provider",
  "playwright-core",
  "@modelcontextprotocol/inspector",
  "@aws-cdk/lambda-layer-kubectl-v34",
  "@capi-mcp/e2e",
];
/** The bound the production tree must stay under (measured 55 MB apparent size: see the output). */
const productionBoundBytes = 80 * 1024 * 1024;

let info: FleetInfo;
let scratch: string;

beforeAll(async () => {
  expect(
    Number(process.versions.node.split(".")[0]),
    "these tests run the artifacts on Node 24",
  ).toBeGreaterThanOrEqual(24);
  info = await fleetInfo();
  scratch = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-packaging-"));
  await chmod(scratch, 0o755);
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Apparent size in bytes (the sum of file sizes, what an image layer holds before compression). */
async function sizeOf(directory: string): Promise<number> {
  const { stdout } = await run("du", ["-sb", directory]);
  return Number(stdout.split("\t")[0]);
}

/** Bytes of disk the directory takes here (file-system blocks). */
async function diskUsageOf(directory: string): Promise<number> {
  const { stdout } = await run("du", ["-s", "--block-size=1", directory]);
  return Number(stdout.split("\t")[0]);
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

/** What the Dockerfile says about the runtime image, read from the file itself. */
interface ImageConfiguration {
  readonly stages: readonly string[];
  readonly installs: readonly string[];
  readonly copiesInstall: boolean;
  readonly uid: number;
  readonly gid: number;
  readonly workdir: string | undefined;
  readonly environment: Readonly<Record<string, string>>;
  readonly entrypoint: readonly string[];
  readonly command: readonly string[];
}

async function imageConfiguration(): Promise<ImageConfiguration> {
  const text = await readFile(path.join(repo, "Dockerfile"), "utf8");
  const runtime = text.slice(text.lastIndexOf("\nFROM "));
  const installs = [...text.matchAll(/bash packaging\/install-production\.sh (\S+)/g)].map((match) => match[1] ?? "");
  const user = /^USER (\d+):(\d+)$/m.exec(runtime);
  const environment: Record<string, string> = { PATH: basePath };
  for (const line of runtime.matchAll(/^ENV (.+)$/gm)) {
    for (const pair of (line[1] ?? "").split(/\s+/)) {
      const [key, value] = pair.split(/=(.*)/s);
      if (key && value !== undefined) environment[key] = value.replaceAll("$PATH", environment.PATH ?? "");
    }
  }
  const json = (pattern: RegExp): string[] => {
    const found = pattern.exec(runtime)?.[1];
    return found === undefined ? [] : (JSON.parse(found) as string[]);
  };
  return {
    stages: [...text.matchAll(/^FROM (\S+)/gm)].map((match) => match[1] ?? ""),
    installs,
    copiesInstall: installs.length === 1 && runtime.includes(`COPY --from=build ${installs[0]} ${installs[0]}\n`),
    uid: Number(user?.[1]),
    gid: Number(user?.[2]),
    workdir: /^WORKDIR (\S+)$/m.exec(runtime)?.[1],
    environment,
    entrypoint: json(/^ENTRYPOINT (\[.*\])$/m),
    command: json(/^CMD (\[.*\])$/m),
  };
}

/** stdio `tools/list` and one real read on a workload cluster through an installed gateway. */
async function serveOverStdio(command: string, args: readonly string[], env: Record<string, string>) {
  const transport = new StdioClientTransport({ command, args: [...args], env, stderr: "pipe" });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const client = new Client({ name: "capi-mcp-packaging-e2e", version: "1.0.0" });
  try {
    await client.connect(transport);
    return await listAndRead(client);
  } catch (error) {
    throw new Error(`${String(error)}\n${stderr}`);
  } finally {
    await client.close();
  }
}

async function listAndRead(client: Client) {
  const { tools } = await client.listTools();
  const read = await client.callTool({
    name: "k8s_get_resource",
    arguments: { cluster: "org-acme/dev", resource: "cm", name: "cluster-identity", namespace: "default" },
  });
  return { names: tools.map((tool) => tool.name), read: resultText(read), readFailed: read.isError === true };
}

function expectServes(served: Awaited<ReturnType<typeof listAndRead>>) {
  expect(served.names).toContain("k8s_get_resource");
  expect(served.names).toContain("k8s_list_resources");
  expect(served.names.length).toBeGreaterThan(15);
  expect(served.readFailed, served.read).toBe(false);
  expect(served.read).toContain("cluster: org-acme/dev");
}

describe("the container image's production install, run as the Dockerfile configures the image", () => {
  let image: ImageConfiguration;
  /** Stands in for the image's root: <root>/opt/capi-mcp is the installed tree. */
  let root: string;
  let tree: string;
  /** Stands in for a mounted Secret: the fleet's kubeconfig, readable by the image's uid only. */
  let secrets: string;

  /**
   * The command line that runs `command` inside the stand-in container: a private mount
   * namespace with the install at its image path, Node 24 at /usr/local/bin, /srv holding the
   * kubeconfig, everything read-only but a fresh /tmp (the chart's emptyDir), then the
   * Dockerfile's uid, gid (no supplementary groups), environment and working directory.
   */
  function inImage(command: readonly string[], user = { uid: image.uid, gid: image.gid }): [string, string[]] {
    const script = [
      "set -e",
      'mount --bind "$1" /opt && mount -o remount,bind,ro /opt',
      'mount --bind "$2" /srv && mount -o remount,bind,ro /srv',
      'mount --bind "$3" /usr/local/bin && mount -o remount,bind,ro /usr/local/bin',
      "mount -o remount,bind,ro /",
      ...mountTmpfsKeeping("/tmp", repo, "mode=1777,size=64m,nosuid,nodev"),
      'cd "$4"',
      "uid=$5 gid=$6 && shift 6",
      'exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- env -i "$@"',
    ].join("\n");
    const environment = Object.entries(image.environment).map(([key, value]) => `${key}=${value}`);
    const args = [
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "--",
      "sh",
      "-c",
      script,
      "capi-mcp-image",
      path.join(root, "opt"),
      secrets,
      nodeDirectory,
      image.workdir ?? "/",
      String(user.uid),
      String(user.gid),
      ...environment,
      ...command,
    ];
    const [file, ...rest] = [...privileged, ...args];
    return [file ?? "unshare", rest];
  }

  beforeAll(async () => {
    image = await imageConfiguration();
    root = path.join(scratch, "image");
    tree = path.join(root, image.installs[0] ?? "/opt/capi-mcp");
    await mkdir(path.join(root, "opt"), { recursive: true });
    const started = Date.now();
    const { stderr } = await run("bash", [path.join(repo, "packaging/install-production.sh"), tree], {
      maxBuffer: 16 * 1024 * 1024,
    });
    process.stdout.write(`${stderr.trim()} in ${seconds(started)}\n`);
    secrets = path.join(scratch, "secrets");
    await mkdir(secrets, { mode: 0o700 });
    await copyFile(info.kubeconfig, path.join(secrets, "kubeconfig"));
    await chmod(path.join(secrets, "kubeconfig"), 0o400);
    if (privileged.length === 0) {
      await chown(secrets, image.uid, image.gid);
      await chown(path.join(secrets, "kubeconfig"), image.uid, image.gid);
    } else {
      await run("sudo", ["-n", "chown", "-R", `${image.uid}:${image.gid}`, secrets]);
    }
  }, 180_000);

  it("is what the Dockerfile builds: Node 24, one install copied whole, a non-root uid, capi-mcp serve", () => {
    expect(image.stages).toHaveLength(2);
    for (const stage of image.stages) {
      expect(stage).toMatch(/^node:24[-.\w]*$/);
    }
    expect(image.installs).toEqual(["/opt/capi-mcp"]);
    expect(image.copiesInstall).toBe(true);
    expect(image.uid).toBeGreaterThan(0);
    expect(image.gid).toBeGreaterThan(0);
    expect(image.environment.PATH?.split(":")[0]).toBe("/opt/capi-mcp/bin");
    expect(image.environment.NODE_ENV).toBe("production");
    expect(image.workdir).toBe("/tmp");
    expect([...image.entrypoint, ...image.command]).toEqual(["capi-mcp", "serve"]);
    // The image's environment must not set gateway options: they would override the chart's
    // config file (flags beat environment, environment beats the file).
    expect(Object.keys(image.environment).filter((key) => key.startsWith("CAPI_MCP_"))).toEqual([]);
  });

  it("holds the gateway and its production dependencies only, no sources or maps, under the size bound", async () => {
    const installed = new Set<string>();
    for (const entry of await readdir(path.join(tree, "node_modules"))) {
      if (entry.startsWith("@")) {
        for (const scoped of await readdir(path.join(tree, "node_modules", entry))) installed.add(`${entry}/${scoped}`);
      } else installed.add(entry);
    }
    for (const expected of [
      "@capi-mcp/gateway",
      "@capi-mcp/kube",
      "@kubernetes/client-node",
      "@modelcontextprotocol/sdk",
      "hono",
      "pino",
    ]) {
      expect(installed, expected).toContain(expected);
    }
    for (const absent of devOnly) expect(installed, absent).not.toContain(absent);
    await expect(access(path.join(tree, "node_modules/.bin"))).rejects.toMatchObject({ code: "ENOENT" });
    // Nothing that only a compiler or a debugger reads, in any package; nothing but compiled
    // JavaScript and manifests in ours.
    const { stdout: leftovers } = await run("find", [
      path.join(tree, "node_modules"),
      "-type",
      "f",
      "(",
      "-name",
      "*.map",
      "-o",
      "-name",
      "*.ts",
      "-o",
      "-name",
      "*.mts",
      "-o",
      "-name",
      "*.cts",
      "-o",
      "-path",
      "*/@capi-mcp/*/src/*",
      "-o",
      "-path",
      "*/@capi-mcp/*.test.js",
      ")",
    ]);
    expect(leftovers).toBe("");
    const size = await sizeOf(tree);
    process.stdout.write(
      `production tree: ${megabytes(size)} (${size} bytes; ${megabytes(await diskUsageOf(tree))} on disk), ${installed.size} top-level packages, bound ${megabytes(productionBoundBytes)}\n`,
    );
    expect(size).toBeLessThan(productionBoundBytes);
  });

  it("refuses a target that is not empty, and a missing one, changing nothing", async () => {
    const script = path.join(repo, "packaging/install-production.sh");
    await expect(run("bash", [script, tree])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("is not empty"),
    });
    await expect(run("bash", [script])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("usage:") });
    await expect(access(path.join(tree, "bin/capi-mcp"))).resolves.toBeUndefined();
  });

  it("runs in a read-only root file system as the image's uid: only /tmp is writable, for root too", async () => {
    const probe = [
      "sh",
      "-c",
      `id -u; for f in /opt/capi-mcp/written /written /etc/written "${repo}written"; do touch "$f" 2>&1 || true; done; touch /tmp/written && echo tmp-writable`,
    ];
    const asImage = await run(...inImage(probe));
    const [uid, ...lines] = asImage.stdout.trim().split("\n");
    expect(Number(uid)).toBe(image.uid);
    expect(lines.filter((line) => /Read-only file system/.test(line))).toHaveLength(4);
    expect(lines.at(-1)).toBe("tmp-writable");
    const asRoot = await run(...inImage(probe, { uid: 0, gid: 0 }));
    expect(asRoot.stdout.trim().split("\n")[0]).toBe("0");
    expect(asRoot.stdout.match(/Read-only file system/g)).toHaveLength(4);
    await expect(stat(path.join(tree, "written"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("answers --help and version through the entry point", async () => {
    const help = await run(...inImage([...image.entrypoint, "--help"]));
    expect(help.stdout).toMatch(/capi-mcp serve/);
    expect(help.stdout).toMatch(/--kubeconfig/);
    const version = await run(...inImage([...image.entrypoint, "version"]));
    const { version: expected } = JSON.parse(await readFile(path.join(repo, "packages/gateway/package.json"), "utf8"));
    expect(version.stdout.trim()).toBe(`capi-mcp ${expected}`);
  });

  it("serves tools/list and a real read on the fleet over stdio", async () => {
    const [file, args] = inImage([...image.entrypoint, ...image.command, "--kubeconfig", "/srv/kubeconfig"]);
    expectServes(await serveOverStdio(file, args, { PATH: process.env.PATH ?? basePath }));
  });

  it("serves streamable HTTP: /readyz answers, tools/list and a read work, /metrics on its own port", async () => {
    const [port, metricsPort] = await freePorts(2);
    const [file, args] = inImage([
      ...image.entrypoint,
      ...image.command,
      "--transport",
      "streamable-http",
      "--http-addr",
      `127.0.0.1:${port}`,
      // Off the default 127.0.0.1:9090, which parallel tests would share.
      "--metrics-addr",
      `127.0.0.1:${metricsPort}`,
      "--kubeconfig",
      "/srv/kubeconfig",
    ]);
    const child: ChildProcess = spawn(file, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    const client = new Client({ name: "capi-mcp-packaging-e2e", version: "1.0.0" });
    try {
      let ready: Response | undefined;
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && ready?.status !== 200) {
        if (child.exitCode !== null) throw new Error(`capi-mcp exited early (${child.exitCode}): ${stderr}`);
        ready = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        if (ready?.status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(ready?.status, stderr).toBe(200);
      await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
      expectServes(await listAndRead(client));
      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(metrics.status).toBe(200);
    } finally {
      await client.close();
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
    }
  });
});

describe("the npm package: one tarball that installs into an empty folder and serves stdio", () => {
  let tarball: string;
  let project: string;
  /** A user's PATH: the installed package's commands and Node 24, then the system's. */
  let userPath: string;

  beforeAll(async () => {
    const output = path.join(scratch, "pack");
    const packed = await run("bash", [path.join(repo, "packaging/pack-npm.sh"), output], {
      env: { ...process.env, PATH: `${nodeDirectory}:${process.env.PATH ?? ""}` },
    });
    tarball = packed.stdout.trim().split("\n").at(-1) ?? "";
    expect(await readdir(output)).toEqual([path.basename(tarball)]);
    project = path.join(scratch, "npm-user");
    await mkdir(project);
    const cache = await mkdtemp(path.join(os.tmpdir(), "capi-mcp-npm-cache-"));
    const started = Date.now();
    try {
      await run("npm", ["install", "--no-audit", "--no-fund", "--cache", cache, tarball], {
        cwd: project,
        env: { ...process.env, PATH: `${nodeDirectory}:${process.env.PATH ?? ""}` },
        maxBuffer: 16 * 1024 * 1024,
      });
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
    process.stdout.write(
      `npm package: ${path.basename(tarball)} ${megabytes((await stat(tarball)).size)} (${(await stat(tarball)).size} bytes), installed from an empty cache in ${seconds(started)}, ${megabytes(await sizeOf(project))} installed\n`,
    );
    userPath = `${path.join(project, "node_modules/.bin")}:${nodeDirectory}:/usr/bin:/bin`;
  }, 240_000);

  it("holds the command, its README and licence and the compiled bundle: no tests, maps, sources or keys", async () => {
    const { stdout } = await run("tar", ["-tzf", tarball]);
    const files = stdout.split("\n").filter((line) => line !== "");
    expect(files).toContain("package/package.json");
    expect(files).toContain("package/bin/capi-mcp.js");
    expect(files).toContain("package/README.md");
    expect(files).toContain("package/LICENSE");
    expect(files).toContain("package/node_modules/@capi-mcp/gateway/dist/cli.js");
    for (const file of files) {
      expect(file).not.toMatch(/\.test\.|\.map$|\.ts$|\/src\/|\.tsbuildinfo$|\.pem$|\.key$|\/kubeconfig(\.ya?ml)?$/);
    }
    const { stdout: contents } = await run("tar", ["-xzOf", tarball], { maxBuffer: 64 * 1024 * 1024 });
    expect(contents).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
    expect(contents).not.toContain("sourceMappingURL");
    const manifest = JSON.parse((await run("tar", ["-xzOf", tarball, "package/package.json"])).stdout);
    expect(manifest).toMatchObject({
      name: "capi-mcp",
      bin: { "capi-mcp": "bin/capi-mcp.js" },
      engines: { node: ">=24" },
    });
    expect(manifest.license).toBe("Apache-2.0");
    for (const dependency of Object.keys(manifest.dependencies)) expect(devOnly).not.toContain(dependency);
    // Every @capi-mcp package travels inside the tarball; none is looked up in a registry.
    const workspace = Object.keys(manifest.dependencies).filter((name) => name.startsWith("@capi-mcp/"));
    expect(workspace.length).toBe(9);
    expect([...manifest.bundleDependencies].sort()).toEqual(workspace.sort());
  });

  it("installs the bundled workspace packages inside itself, the rest as ordinary dependencies", async () => {
    const installed = path.join(project, "node_modules");
    await expect(
      access(path.join(installed, "capi-mcp/node_modules/@capi-mcp/gateway/dist/cli.js")),
    ).resolves.toBeUndefined();
    await expect(access(path.join(installed, "@kubernetes/client-node/package.json"))).resolves.toBeUndefined();
    for (const absent of devOnly) {
      await expect(access(path.join(installed, absent)), absent).rejects.toMatchObject({ code: "ENOENT" });
    }
  });

  it("answers capi-mcp --help and version, run by name with Node 24 on PATH", async () => {
    const help = await run("capi-mcp", ["--help"], { cwd: scratch, env: { PATH: userPath, HOME: scratch } });
    expect(help.stdout).toMatch(/capi-mcp serve/);
    expect(help.stdout).toMatch(/--kubeconfig/);
    const version = await run("capi-mcp", ["version"], { cwd: scratch, env: { PATH: userPath, HOME: scratch } });
    const { version: expected } = JSON.parse(await readFile(path.join(repo, "packages/gateway/package.json"), "utf8"));
    expect(version.stdout.trim()).toBe(`capi-mcp ${expected}`);
  });

  it("serves tools/list and a real read on the fleet over stdio", async () => {
    const kubeconfig = path.join(scratch, "npm-user-kubeconfig");
    await writeFile(kubeconfig, await readFile(info.kubeconfig), { mode: 0o600 });
    expectServes(
      await serveOverStdio("capi-mcp", ["serve", "--kubeconfig", kubeconfig], { PATH: userPath, HOME: scratch }),
    );
  });

  it("on a Node older than its engines range, says which Node it needs instead of crashing", async () => {
    // Node 23 is the newest version below the range; an older Node would be refused the same way.
    // The guard reads process.versions, which the NODE_OPTIONS preload below overrides for the
    // child only, so this runs on any machine; the real gateway is never reached.
    const preload = path.join(scratch, "pretend-node-23.cjs");
    await writeFile(
      preload,
      'Object.defineProperty(process, "versions", { value: { ...process.versions, node: "23.11.0" } });\n',
    );
    const attempt = run("capi-mcp", ["--help"], {
      cwd: scratch,
      env: { PATH: userPath, HOME: scratch, NODE_OPTIONS: `--require ${preload}` },
    });
    await expect(attempt).rejects.toMatchObject({
      code: 1,
      stdout: "",
      stderr: expect.stringMatching(/capi-mcp needs Node\.js >=24; this is Node\.js 23\.11\.0/),
    });
    // And a real older Node, where the machine has one (this one's own Node is 20).
    for (const older of ["/usr/bin/node", "/usr/local/bin/node"]) {
      const version = await run(older, ["-p", "process.versions.node"]).catch(() => undefined);
      if (version === undefined || Number(version.stdout.split(".")[0]) >= 24) continue;
      process.stdout.write(`npm package on the machine's ${older} ${version.stdout.trim()}: refused as expected\n`);
      const bin = path.join(project, "node_modules/.bin/capi-mcp");
      await expect(run(older, [bin, "--help"], { cwd: scratch, env: { HOME: scratch } })).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining(`capi-mcp needs Node.js >=24; this is Node.js ${version.stdout.trim()}`),
      });
    }
  });
});
