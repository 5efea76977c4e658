import type { KubeObject } from "@capi-mcp/core";
import { formatAge } from "./age.js";
import { asNumber, stringAt, valueAt } from "./object-fields.js";
import { renderTable, type TableCell, truncateText } from "./table.js";

// Long enough for the usual "Back-off restarting failed container…" plus its details.
const eventMessageLength = 240;

/** When an event last happened, whichever field the emitter filled in. */
export function eventTime(event: KubeObject): string | undefined {
  return (
    stringAt(event, "lastTimestamp") ??
    stringAt(event, "series.lastObservedTime") ??
    stringAt(event, "eventTime") ??
    stringAt(event, "firstTimestamp") ??
    event.metadata?.creationTimestamp
  );
}

function eventMilliseconds(event: KubeObject): number {
  const time = Date.parse(eventTime(event) ?? "");
  return Number.isNaN(time) ? 0 : time;
}

export function sortEventsNewestFirst(events: readonly KubeObject[]): KubeObject[] {
  return [...events].sort((left, right) => eventMilliseconds(right) - eventMilliseconds(left));
}

export function eventCount(event: KubeObject): number {
  return asNumber(valueAt(event, "count")) ?? asNumber(valueAt(event, "series.count")) ?? 1;
}

export function eventObject(event: KubeObject): string {
  const kind = stringAt(event, "involvedObject.kind") ?? "";
  const name = stringAt(event, "involvedObject.name") ?? "";
  return kind === "" ? name : `${kind.toLowerCase()}/${name}`;
}

function eventSource(event: KubeObject): string | undefined {
  return (
    stringAt(event, "source.component") ??
    stringAt(event, "reportingComponent") ??
    stringAt(event, "reportingController")
  );
}

export interface EventTableOptions {
  readonly showNamespace: boolean;
  readonly showObject: boolean;
  readonly now: Date;
}

/** Events as `kubectl get events` prints them: age, type, reason, object, message (shortened). */
export function renderEventTable(events: readonly KubeObject[], options: EventTableOptions): string {
  const headers = [
    ...(options.showNamespace ? ["NAMESPACE"] : []),
    "LAST SEEN",
    "TYPE",
    "REASON",
    ...(options.showObject ? ["OBJECT"] : ["FROM"]),
    "COUNT",
    "MESSAGE",
  ];
  const rows = events.map((event): TableCell[] => [
    ...(options.showNamespace ? [event.metadata?.namespace] : []),
    formatAge(eventTime(event), options.now),
    stringAt(event, "type"),
    stringAt(event, "reason"),
    options.showObject ? eventObject(event) : eventSource(event),
    eventCount(event),
    truncateText(stringAt(event, "message") ?? "", eventMessageLength),
  ]);
  return renderTable(headers, rows);
}
