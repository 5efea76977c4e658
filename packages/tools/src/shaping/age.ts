/**
 * A duration as kubectl prints it in AGE columns, coarsened to one unit: short enough for a
 * table row, precise enough to tell "just restarted" from "running for weeks".
 */
export function formatDuration(milliseconds: number): string {
  const seconds = Math.max(0, Math.floor(milliseconds / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (days < 730) return `${days}d`;
  return `${Math.floor(days / 365)}y`;
}

/** The age of a timestamp relative to `now`; `<unknown>` when it is missing or unreadable. */
export function formatAge(timestamp: string | undefined, now: Date = new Date()): string {
  if (timestamp === undefined || timestamp === "") return "<unknown>";
  const time = Date.parse(timestamp);
  if (Number.isNaN(time)) return "<unknown>";
  return formatDuration(now.getTime() - time);
}
