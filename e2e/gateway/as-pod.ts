// Runs capi-mcp the way the pod of an installed Deployment would run it, on a machine with no
// kubelet and no container runtime: this file plays the kubelet's part. It reads the Deployment
// back from the API server, materializes each volume the container mounts from the objects the
// volume names (ConfigMap, Secret, projected service-account token via TokenRequest, downward
// API, emptyDir), and starts the container's command in a private mount namespace (`unshare
// --mount`) where those files sit at the mount paths the Deployment names (bind mounts, read-only
// where it says so), the root filesystem is read-only when the container's securityContext says
// so, /tmp is a fresh tmpfs for an emptyDir, and the process runs as the securityContext's
// uid/gid with fsGroup as supplementary group, no new privileges and no capabilities (`setpriv`).
// What it cannot do: schedule a pod, pull the image, apply seccomp or a network namespace; the
// gateway binds the loopback address the test gives it instead of the pod IP.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, realpathSync } from "node:fs";
import { chmod, chown, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { KubeRestClient } from "../fleet/kube-rest.ts";
import { gatewayCli } from "./harness.ts";
import { mountTmpfsKeeping } from "./tmpfs-keeping.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

interface KeyToPath {
  readonly key: string;
  readonly path: string;
  readonly mode?: number;
}

interface Volume {
  readonly name: string;
  readonly configMap?: { name: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean };
  readonly secret?: { secretName: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean };
  readonly projected?: {
    defaultMode?: number;
    sources: {
      secret?: { name: string; items?: KeyToPath[]; optional?: boolean };
      configMap?: { name: string; items?: KeyToPath[]; optional?: boolean };
      serviceAccountToken?: { path: string; expirationSeconds?: number; audience?: string };
      downwardAPI?: { items: { path: string; fieldRef?: { fieldPath: string }; mode?: number }[] };
    }[];
  };
  readonly emptyDir?: Record<string, unknown>;
}

interface VolumeMount {
  readonly name: string;
  readonly mountPath: string;
  readonly subPath?: string;
  readonly readOnly?: boolean;
}

interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { fieldRef?: { fieldPath: string } };
}

interface SecurityContext {
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly runAsNonRoot?: boolean;
  readonly fsGroup?: number;
  readonly readOnlyRootFilesystem?: boolean;
  readonly allowPrivilegeEscalation?: boolean;
  readonly capabilities?: { drop?: string[]; add?: string[] };
}

interface Container {
  readonly name: string;
  readonly command?: string[];
  readonly args?: string[];
  readonly env?: EnvVar[];
  readonly volumeMounts?: VolumeMount[];
  readonly securityContext?: SecurityContext;
}

export interface Deployment {
  readonly metadata: { name: string; namespace: string };
  readonly spec: {
    readonly template: {
      readonly spec: {
        readonly serviceAccountName?: string;
        readonly automountServiceAccountToken?: boolean;
        readonly securityContext?: SecurityContext;
        readonly containers: Container[];
        readonly volumes?: Volume[];
      };
    };
  };
}

/** One mount in the pod's filesystem: a host path bound at `target`, or a fresh tmpfs. */
export interface PodMount {
  readonly target: string;
  readonly source?: string;
  readonly tmpfs?: boolean;
  readonly readOnly: boolean;
  readonly file: boolean;
}

export interface PodFilesystem {
  readonly mounts: readonly PodMount[];
  /** The host file behind a path inside the pod (for reading back what the pod sees). */
  hostPathOf(podPath: string): string;
}

type TokenIssuer = (serviceAccount: string, expirationSeconds: number, audience?: string) => Promise<string>;

function decoded(data: Record<string, string> | undefined, key: string, what: string): Buffer {
  const value = data?.[key];
  if (value === undefined) throw new Error(`${what} has no key ${key}`);
  return Buffer.from(value, "base64");
}

async function writeItem(directory: string, relative: string, content: Buffer | string, mode: number, group?: number) {
  if (relative.split("/").includes("..") || path.isAbsolute(relative)) throw new Error(`bad volume path ${relative}`);
  const file = path.join(directory, relative);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
  // The kubelet: root owns volume files, fsGroup is their group, the mode is the volume's.
  await chown(file, 0, group ?? 0);
  await chmod(file, mode);
}

/**
 * Writes every volume the container mounts into `staging`, as the kubelet would, from the API
 * objects it names; fails on a volume type it does not know rather than skipping it.
 */
export async function materializeVolumes(
  admin: KubeRestClient,
  deployment: Deployment,
  staging: string,
  issueToken: TokenIssuer,
  podName: string,
): Promise<PodFilesystem> {
  const pod = deployment.spec.template.spec;
  const namespace = deployment.metadata.namespace;
  const [container] = pod.containers;
  if (!container || pod.containers.length !== 1) throw new Error("expected one container");
  const group = pod.securityContext?.fsGroup;
  const serviceAccount = pod.serviceAccountName ?? "default";
  const get = async (kind: "configmaps" | "secrets", name: string, optional: boolean | undefined) => {
    const response = await admin.request<{ data?: Record<string, string> }>(
      "GET",
      `/api/v1/namespaces/${namespace}/${kind}/${name}`,
    );
    if (response.status === 404 && optional) return undefined;
    if (response.status !== 200) throw new Error(`the pod's ${kind} ${name} answered ${response.status}`);
    return response.body.data ?? {};
  };
  const keysOf = (data: Record<string, string>, items: KeyToPath[] | undefined): KeyToPath[] =>
    items ?? Object.keys(data).map((key) => ({ key, path: key }));

  const volumeDirectories = new Map<string, string>();
  for (const mount of container.volumeMounts ?? []) {
    if (volumeDirectories.has(mount.name)) continue;
    const volume = pod.volumes?.find((candidate) => candidate.name === mount.name);
    if (!volume) throw new Error(`volumeMount ${mount.name} names no volume`);
    if (volume.emptyDir) continue;
    const directory = path.join(staging, "volumes", volume.name);
    await mkdir(directory, { recursive: true, mode: 0o755 });
    volumeDirectories.set(volume.name, directory);
    if (volume.configMap) {
      const source = volume.configMap;
      const data = await get("configmaps", source.name, source.optional);
      if (data === undefined) continue;
      for (const item of keysOf(data, source.items)) {
        const value = data[item.key];
        if (value === undefined) throw new Error(`ConfigMap ${source.name} has no key ${item.key}`);
        await writeItem(directory, item.path, value, item.mode ?? source.defaultMode ?? 0o644, group);
      }
    } else if (volume.secret) {
      const source = volume.secret;
      const data = await get("secrets", source.secretName, source.optional);
      if (data === undefined) continue;
      for (const item of keysOf(data, source.items)) {
        const content = decoded(data, item.key, `Secret ${source.secretName}`);
        await writeItem(directory, item.path, content, item.mode ?? source.defaultMode ?? 0o644, group);
      }
    } else if (volume.projected) {
      const mode = volume.projected.defaultMode ?? 0o644;
      for (const source of volume.projected.sources) {
        if (source.secret) {
          const data = await get("secrets", source.secret.name, source.secret.optional);
          if (data === undefined) continue;
          for (const item of keysOf(data, source.secret.items)) {
            const content = decoded(data, item.key, `Secret ${source.secret.name}`);
            await writeItem(directory, item.path, content, item.mode ?? mode, group);
          }
        } else if (source.configMap) {
          const data = await get("configmaps", source.configMap.name, source.configMap.optional);
          if (data === undefined) continue;
          for (const item of keysOf(data, source.configMap.items)) {
            const value = data[item.key];
            if (value === undefined) throw new Error(`ConfigMap ${source.configMap.name} has no key ${item.key}`);
            await writeItem(directory, item.path, value, item.mode ?? mode, group);
          }
        } else if (source.serviceAccountToken) {
          const { path: tokenPath, expirationSeconds, audience } = source.serviceAccountToken;
          const token = await issueToken(serviceAccount, expirationSeconds ?? 3600, audience);
          await writeItem(directory, tokenPath, token, mode, group);
        } else if (source.downwardAPI) {
          for (const item of source.downwardAPI.items) {
            const field = item.fieldRef?.fieldPath;
            const value = field === "metadata.namespace" ? namespace : field === "metadata.name" ? podName : undefined;
            if (value === undefined) throw new Error(`downward API field ${field} is not supported here`);
            await writeItem(directory, item.path, value, item.mode ?? mode, group);
          }
        } else {
          throw new Error(`projected volume ${volume.name} has a source this stand-in does not know`);
        }
      }
    } else {
      throw new Error(`volume ${volume.name} is of a type this stand-in does not know`);
    }
  }

  const mounts: PodMount[] = (container.volumeMounts ?? []).map((mount) => {
    const volume = pod.volumes?.find((candidate) => candidate.name === mount.name);
    if (volume?.emptyDir) return { target: mount.mountPath, tmpfs: true, readOnly: false, file: false };
    const directory = volumeDirectories.get(mount.name) as string;
    const source = mount.subPath ? path.join(directory, mount.subPath) : directory;
    if (mount.subPath && !existsSync(source)) throw new Error(`subPath ${mount.subPath} is not in ${mount.name}`);
    return { target: mount.mountPath, source, readOnly: mount.readOnly === true, file: Boolean(mount.subPath) };
  });
  return {
    mounts,
    hostPathOf(podPath: string) {
      const mount = mounts
        .filter((candidate) => podPath === candidate.target || podPath.startsWith(`${candidate.target}/`))
        .sort((a, b) => b.target.length - a.target.length)[0];
      if (!mount?.source) throw new Error(`${podPath} is on no mounted volume`);
      return path.join(mount.source, podPath.slice(mount.target.length));
    },
  };
}

/** The container's environment, with the downward-API fields this pod would have. */
export function containerEnvironment(deployment: Deployment, podName: string): Record<string, string> {
  const [container] = deployment.spec.template.spec.containers;
  const environment: Record<string, string> = {};
  for (const variable of container?.env ?? []) {
    if (variable.value !== undefined) environment[variable.name] = variable.value;
    else if (variable.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") {
      environment[variable.name] = deployment.metadata.namespace;
    } else if (variable.valueFrom?.fieldRef?.fieldPath === "metadata.name") environment[variable.name] = podName;
    else if (variable.valueFrom) throw new Error(`env ${variable.name}: a valueFrom this stand-in does not know`);
    else environment[variable.name] = "";
  }
  return environment;
}

const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

/** The top-level directory to overlay so that `target` can be created, or undefined when it exists. */
function overlayRootFor(target: string): string | undefined {
  if (existsSync(target)) return undefined;
  let existing = path.dirname(target);
  while (!existsSync(existing)) existing = path.dirname(existing);
  const resolved = realpathSync(existing);
  const top = `/${resolved.split("/")[1] ?? ""}`;
  if (top === "/") throw new Error(`cannot create ${target}: it would need an overlay on /`);
  return top;
}

export interface PodProcess {
  readonly process: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * Starts the container's command as the pod would: the image's entrypoint is `capi-mcp`
 * (packaging/Dockerfile), here the built CLI under Node 24; the container's args follow, then
 * `extraArguments` (the only overrides a test makes: loopback listen addresses).
 */
export function startPodProcess(options: {
  readonly deployment: Deployment;
  readonly filesystem: PodFilesystem;
  readonly environment: Record<string, string>;
  readonly staging: string;
  readonly extraArguments: readonly string[];
}): PodProcess {
  const pod = options.deployment.spec.template.spec;
  const [container] = pod.containers;
  if (!container) throw new Error("no container");
  if (container.command !== undefined) throw new Error("the container overrides the image's entrypoint");
  const security = { ...pod.securityContext, ...container.securityContext };
  if (security.runAsNonRoot && !security.runAsUser) throw new Error("runAsNonRoot without runAsUser");
  const lines = ["set -eu"];
  const overlays = new Set<string>();
  for (const mount of options.filesystem.mounts) {
    const root = overlayRootFor(mount.target);
    if (root) overlays.add(root);
  }
  // Mount points that do not exist on this machine (/etc/capi-mcp, /run/secrets/...) are made in an
  // overlay seen only inside this mount namespace; the machine's /etc and /run are untouched.
  let index = 0;
  for (const root of overlays) {
    const upper = path.join(options.staging, "overlay", String(index), "upper");
    const work = path.join(options.staging, "overlay", String(index), "work");
    index += 1;
    lines.push(`mkdir -p ${quote(upper)} ${quote(work)}`);
    lines.push(
      `mount -t overlay overlay -o ${quote(`lowerdir=${root},upperdir=${upper},workdir=${work}`)} ${quote(root)}`,
    );
  }
  for (const mount of options.filesystem.mounts) {
    if (mount.tmpfs) continue;
    if (mount.file) lines.push(`mkdir -p ${quote(path.dirname(mount.target))}`, `touch ${quote(mount.target)}`);
    else lines.push(`mkdir -p ${quote(mount.target)}`);
    lines.push(`mount --bind ${quote(mount.source as string)} ${quote(mount.target)}`);
    if (mount.readOnly) lines.push(`mount -o remount,bind,ro ${quote(mount.target)}`);
  }
  if (security.readOnlyRootFilesystem) {
    lines.push("mount -o remount,bind,ro /");
    for (const root of overlays) lines.push(`mount -o remount,ro ${quote(root)}`);
  }
  for (const mount of options.filesystem.mounts) {
    if (mount.tmpfs) lines.push(...mountTmpfsKeeping(mount.target, repoRoot, "mode=1777,nosuid,nodev"));
  }
  const privileges = [
    ...(security.runAsUser === undefined ? [] : ["--reuid", String(security.runAsUser)]),
    ...(security.runAsGroup === undefined ? [] : ["--regid", String(security.runAsGroup)]),
    ...(pod.securityContext?.fsGroup === undefined
      ? ["--clear-groups"]
      : ["--groups", String(pod.securityContext.fsGroup)]),
    ...(security.allowPrivilegeEscalation === false ? ["--no-new-privs"] : []),
    ...(security.capabilities?.drop?.includes("ALL") ? ["--inh-caps=-all", "--bounding-set=-all"] : []),
  ];
  lines.push("cd /", `exec setpriv ${privileges.join(" ")} -- "$@"`);
  const command = [process.execPath, gatewayCli, ...(container.args ?? []), ...options.extraArguments];
  const child = spawn(
    "unshare",
    ["--mount", "--propagation", "private", "--", "sh", "-c", lines.join("\n"), "sh", ...command],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        HOME: "/tmp",
        ...options.environment,
      },
    },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  child.stdout?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  return {
    process: child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
    },
  };
}
