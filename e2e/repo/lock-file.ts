// What a package-lock.json must hold so that `npm ci` installs from it on a machine with an empty
// npm cache, and the repair that gives npm's version-less placeholders real entries.
//
// Why: npm writes `{ "dev": true, "optional": true }` placeholders, with no version, for other
// platforms' optional packages (biome's and turbo's native binaries) when it builds the lock from a
// node_modules that lacks them. A warm cache hides it; on a new machine `npm ci` dies with
// "Invalid Version:". Every entry must therefore carry a version and an integrity, or be a
// workspace link, and every optional dependency must resolve to such an entry.

export interface LockEntry {
  name?: string;
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  license?: string;
  cpu?: string[];
  os?: string[];
  libc?: string[];
  engines?: Record<string, string>;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  [key: string]: unknown;
}

export interface LockFile {
  name?: string;
  lockfileVersion?: number;
  packages: Record<string, LockEntry>;
  [key: string]: unknown;
}

/** What the registry says of one package version: the fields a lock entry copies. */
export interface RegistryManifest {
  name: string;
  version: string;
  dist: { integrity: string };
  license?: string;
  cpu?: string[];
  os?: string[];
  libc?: string[];
  engines?: Record<string, string>;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
}

const nodeModules = "node_modules/";

/**
 * The entry that `require(name)` from the package at `from` finds, by Node's resolution: the
 * nearest `node_modules/<name>` walking up from `from`. Undefined when none is in the lock.
 */
export function resolveFrom(lock: LockFile, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base === "" ? `${nodeModules}${name}` : `${base}/${nodeModules}${name}`;
    if (lock.packages[candidate] !== undefined) return candidate;
    if (base === "") return undefined;
    // `node_modules/a/node_modules/b` → `node_modules/a`; `node_modules/a` or a workspace → the root.
    const at = base.lastIndexOf(`/${nodeModules}`);
    base = at === -1 ? "" : base.slice(0, at);
  }
}

/** Every reason `npm ci` with an empty cache could fail on this lock, or leak a registry's address. */
export function lockProblems(lock: LockFile): string[] {
  const problems: string[] = [];
  if (lock.lockfileVersion !== 3) problems.push(`lockfileVersion is ${lock.lockfileVersion}, not 3`);
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === "") continue;
    if (entry.link === true) {
      if (typeof entry.resolved !== "string" || /^[a-z]+:/i.test(entry.resolved)) {
        problems.push(`${path}: a link must resolve to a workspace folder, not ${JSON.stringify(entry.resolved)}`);
      } else if (lock.packages[entry.resolved] === undefined) {
        problems.push(`${path}: links to ${entry.resolved}, which the lock does not describe`);
      }
      continue;
    }
    if (!path.includes(nodeModules)) {
      // A workspace folder: its own name and version, no tarball.
      if (typeof entry.version !== "string" || entry.version === "") problems.push(`${path}: workspace has no version`);
      continue;
    }
    if (typeof entry.version !== "string" || entry.version === "") {
      problems.push(`${path}: no version (a placeholder npm cannot install from)`);
    }
    if (typeof entry.integrity !== "string" || !/^sha(256|384|512)-/.test(entry.integrity)) {
      problems.push(`${path}: no integrity`);
    }
    if (typeof entry.resolved === "string" && /^[a-z]+:\/\//i.test(entry.resolved)) {
      problems.push(`${path}: resolved names a registry's address; set omit-lockfile-registry-resolved (see .npmrc)`);
    }
  }
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (entry.link === true) continue;
    for (const name of Object.keys(entry.optionalDependencies ?? {})) {
      const target = resolveFrom(lock, path, name);
      if (target === undefined) problems.push(`${path || "(root)"}: optional dependency ${name} has no entry`);
    }
  }
  return problems;
}

/**
 * Replaces version-less placeholders with real entries. A placeholder nested under its parent
 * (`a/node_modules/b`) is removed; where no entry for it is reachable from the parent, one is made
 * at the top level from the registry's manifest for the version the parent asks for (nested, if
 * the top level holds another version). Returns what it changed, one line each.
 */
export async function completeLock(
  lock: LockFile,
  manifestOf: (name: string, versionRange: string) => Promise<RegistryManifest>,
): Promise<string[]> {
  const changes: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path.includes(nodeModules) && entry.link !== true && (entry.version === undefined || entry.version === "")) {
      delete lock.packages[path];
      changes.push(`removed the placeholder ${path}`);
    }
  }
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (entry.link === true) continue;
    for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
      if (resolveFrom(lock, path, name) !== undefined) continue;
      const manifest = await manifestOf(name, range);
      const top = `${nodeModules}${name}`;
      const at = lock.packages[top] === undefined || path === "" ? top : `${path}/${nodeModules}${name}`;
      lock.packages[at] = entryFrom(manifest, entry);
      changes.push(`added ${at}@${manifest.version} (optional dependency of ${path || "the root"})`);
    }
  }
  lock.packages = Object.fromEntries(
    Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b, "en"))),
  );
  return changes;
}

function entryFrom(manifest: RegistryManifest, parent: LockEntry): LockEntry {
  const entry: LockEntry = { version: manifest.version, integrity: manifest.dist.integrity };
  if (manifest.cpu !== undefined) entry.cpu = manifest.cpu;
  if (parent.dev === true) entry.dev = true;
  if (manifest.license !== undefined) entry.license = manifest.license;
  if (manifest.libc !== undefined) entry.libc = manifest.libc;
  entry.optional = true;
  if (manifest.os !== undefined) entry.os = manifest.os;
  if (manifest.bin !== undefined) entry.bin = manifest.bin;
  if (manifest.dependencies !== undefined) entry.dependencies = manifest.dependencies;
  if (manifest.engines !== undefined) entry.engines = manifest.engines;
  return entry;
}
