// The audit trail's file: JSON lines appended with synchronous writes, rotated by size. Every
// write either reaches the file or throws, so the runner knows whether a record exists before it
// sends a change; nothing is buffered to be lost on a crash.
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  openSync,
  renameSync,
  type Stats,
  statSync,
  writeSync,
} from "node:fs";

export interface AuditFileOptions {
  readonly path: string;
  /** Rotate before a record would take the file past this many bytes (0: never rotate). */
  readonly maxBytes: number;
  /** Rotated files kept beside it as `<path>.1` (newest) … `<path>.<maxFiles>`; older ones are dropped. */
  readonly maxFiles: number;
}

export interface AuditFile {
  /** Appends `text` whole; throws (ENOSPC, EIO, a removed directory) when it cannot. */
  append(text: string): void;
  close(): void;
}

function sameFile(a: Stats, b: Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** Writes `bytes` completely: a short write (a nearly full disk) is continued, never dropped. */
export function writeFully(descriptor: number, bytes: Buffer): void {
  let offset = 0;
  let stalls = 0;
  while (offset < bytes.length) {
    try {
      const written = writeSync(descriptor, bytes, offset, bytes.length - offset);
      if (written === 0 && ++stalls > 100) throw new Error("the destination accepts no more bytes");
      offset += written;
    } catch (error) {
      // A non-blocking pipe (stdout read by a slow collector) is full: wait a moment, then retry.
      if ((error as NodeJS.ErrnoException).code === "EAGAIN" && ++stalls <= 1000) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        continue;
      }
      throw error;
    }
  }
}

function openForAppend(path: string): number {
  // Audit records name users and what they did; nobody but the gateway's user reads them.
  return openSync(path, "a", 0o600);
}

export function openAuditFile(options: AuditFileOptions): AuditFile {
  let descriptor: number | undefined = openForAppend(options.path);
  let opened = fstatSync(descriptor);
  let size = opened.size;

  function reopen(): number {
    if (descriptor !== undefined) closeSync(descriptor);
    descriptor = undefined;
    const next = openForAppend(options.path);
    descriptor = next;
    opened = fstatSync(next);
    size = opened.size;
    return next;
  }

  /**
   * The descriptor for the file now at the path. If the file was removed or replaced (an
   * operator's logrotate, a revoked volume), writing on to the old descriptor would put records
   * where nobody can read them: open the path again, and fail if that is impossible.
   */
  function current(): number {
    const atPath = statSync(options.path, { throwIfNoEntry: false });
    if (descriptor !== undefined && atPath !== undefined && sameFile(atPath, opened)) return descriptor;
    return reopen();
  }

  function rotate(): void {
    if (descriptor !== undefined) {
      fsyncSync(descriptor);
      closeSync(descriptor);
      descriptor = undefined;
    }
    for (let index = options.maxFiles - 1; index >= 1; index -= 1) {
      const from = `${options.path}.${index}`;
      if (existsSync(from)) renameSync(from, `${options.path}.${index + 1}`);
    }
    if (options.maxFiles >= 1) renameSync(options.path, `${options.path}.1`);
    else {
      // No rotated files kept: start the file over.
      closeSync(openSync(options.path, "w", 0o600));
    }
    reopen();
  }

  return {
    append(text: string): void {
      const bytes = Buffer.from(text, "utf8");
      let target = current();
      // Regular files only: /dev/full and friends have no size to rotate by.
      if (options.maxBytes > 0 && opened.isFile() && size > 0 && size + bytes.length > options.maxBytes) {
        rotate();
        target = current();
      }
      writeFully(target, bytes);
      size += bytes.length;
    },
    close(): void {
      if (descriptor === undefined) return;
      const closing = descriptor;
      descriptor = undefined;
      try {
        fsyncSync(closing);
      } catch {
        // Not every file can be synced (/dev/full, a pipe); closing is what matters.
      }
      closeSync(closing);
    },
  };
}
