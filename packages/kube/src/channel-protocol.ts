/**
 * The Kubernetes WebSocket streaming protocol (`v4.channel.k8s.io`, `v5.channel.k8s.io`): every
 * binary message starts with one channel byte. Exec uses 0 stdin, 1 stdout, 2 stderr, 3 a JSON
 * `Status` when the process ends; v5 adds 255, a client's "I closed this channel" message.
 * Port-forward uses pairs (0 data, 1 error for the first port), and the first message on each
 * of them carries only the port number, two bytes little-endian.
 */

import { scrubServerText } from "./errors.js";

export const channelProtocolV5 = "v5.channel.k8s.io";
export const channelProtocolV4 = "v4.channel.k8s.io";

export const stdinChannel = 0;
export const stdoutChannel = 1;
export const stderrChannel = 2;
export const statusChannel = 3;
export const closeChannel = 255;

export const portForwardDataChannel = 0;
export const portForwardErrorChannel = 1;

export function encodeFrame(channel: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const data = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
  return Buffer.concat([Buffer.from([channel]), data]);
}

export function decodeFrame(message: Buffer): { channel: number; payload: Buffer } | undefined {
  if (message.length === 0) return undefined;
  return { channel: message[0] as number, payload: message.subarray(1) };
}

/** v5's message that closes a channel from the client side (stdin's end of file). */
export function closeFrame(channel: number): Buffer {
  return Buffer.from([closeChannel, channel]);
}

export interface ExitOutcome {
  /** The exit code, when the runtime reported one. */
  readonly exitCode: number | undefined;
  /** The runtime's message when the command could not run (not for a plain non-zero exit). */
  readonly failure?: string;
}

/** Reads the status channel's `Status`: `Success` is 0; `NonZeroExitCode` carries the code in its causes. */
export function exitOutcomeFromStatus(text: string): ExitOutcome {
  let status: {
    status?: string;
    message?: string;
    reason?: string;
    details?: { causes?: { reason?: string; message?: string }[] };
  };
  try {
    status = JSON.parse(text) as typeof status;
  } catch {
    // v1-style plain text on the error channel: the command failed to run.
    return { exitCode: undefined, failure: scrubServerText(text.trim()) || "the command failed without a status" };
  }
  if (status.status === "Success") return { exitCode: 0 };
  if (status.reason === "NonZeroExitCode") {
    const cause = status.details?.causes?.find((item) => item.reason === "ExitCode");
    const code = Number(cause?.message);
    if (cause && Number.isInteger(code)) return { exitCode: code };
  }
  // Written by the API server or the kubelet: it passes the same redaction as every server text.
  return { exitCode: undefined, failure: scrubServerText(status.message ?? "the command failed without a message") };
}

/**
 * Strips the two-byte port number that opens each port-forward channel. The prefix may in
 * principle arrive split across messages, so it is counted per channel rather than assumed whole.
 */
export function createPortPrefixStripper(): (channel: number, payload: Buffer) => Buffer {
  const remaining = new Map<number, number>();
  return (channel, payload) => {
    const left = remaining.get(channel) ?? 2;
    if (left === 0) return payload;
    const strip = Math.min(left, payload.length);
    remaining.set(channel, left - strip);
    return payload.subarray(strip);
  };
}

/**
 * Cuts a buffer to at most `limit` bytes without splitting a UTF-8 character, so the text a
 * caller gets never ends in a replacement character.
 */
export function cutUtf8(buffer: Buffer, limit: number): Buffer {
  if (buffer.length <= limit) return buffer;
  let end = Math.max(0, limit);
  // Step back over continuation bytes (10xxxxxx) to the start of the character that was cut.
  while (end > 0 && ((buffer[end] as number) & 0xc0) === 0x80) end -= 1;
  return buffer.subarray(0, end);
}
