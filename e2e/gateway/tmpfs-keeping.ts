// A fresh tmpfs over /tmp (a pod's emptyDir) hides everything below it, and a checkout of this
// repository may well live below /tmp (CI clones wherever it likes). These shell lines mount the
// tmpfs and keep one path under it (the checkout, which holds Node 24 and the gateway's CLI)
// visible where it was, read-only: bound aside at /mnt first, then bound back on the tmpfs.
// Only for a private mount namespace (`unshare --mount`), where none of it touches the machine.
import path from "node:path";

const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

/** Shell lines mounting a tmpfs at `target` with `options`, keeping `keep` visible read-only. */
export function mountTmpfsKeeping(target: string, keep: string, options: string): string[] {
  const mountTmpfs = `mount -t tmpfs -o ${options} tmpfs ${quote(target)}`;
  const relative = path.relative(target, keep);
  if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) return [mountTmpfs];
  return [
    `mount --bind ${quote(keep)} /mnt`,
    mountTmpfs,
    `mkdir -p ${quote(keep)}`,
    `mount --bind /mnt ${quote(keep)}`,
    `mount -o remount,bind,ro ${quote(keep)}`,
    "umount /mnt",
  ];
}
