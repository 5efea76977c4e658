// Kubernetes objects arrive as untyped JSON; these read them without trusting their shape.

export type JsonRecord = Record<string, unknown>;

export function asRecord(value: unknown): JsonRecord | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as JsonRecord) : undefined;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asRecords(value: unknown): JsonRecord[] {
  return asArray(value).flatMap((item) => {
    const record = asRecord(item);
    return record === undefined ? [] : [record];
  });
}

export function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function asNumber(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** The value at a dotted path (`status.phase`), or undefined anywhere along the way. */
export function valueAt(object: unknown, path: string): unknown {
  let current: unknown = object;
  for (const key of path.split(".")) {
    const record = asRecord(current);
    if (record === undefined) return undefined;
    current = record[key];
  }
  return current;
}

export function stringAt(object: unknown, path: string): string | undefined {
  return asString(valueAt(object, path));
}

export function numberAt(object: unknown, path: string): number | undefined {
  return asNumber(valueAt(object, path));
}

export interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason: string | undefined;
  readonly message: string | undefined;
  readonly lastTransitionTime: string | undefined;
}

/** `status.conditions` in the shape every Kubernetes API (and Cluster API) uses. */
export function conditionsOf(object: unknown): Condition[] {
  return asRecords(valueAt(object, "status.conditions")).flatMap((condition) => {
    const type = asString(condition.type);
    if (type === undefined) return [];
    return [
      {
        type,
        status: asString(condition.status) ?? "Unknown",
        reason: asString(condition.reason),
        message: asString(condition.message),
        lastTransitionTime: asString(condition.lastTransitionTime),
      },
    ];
  });
}

export function conditionStatus(object: unknown, type: string): string | undefined {
  return conditionsOf(object).find((condition) => condition.type === type)?.status;
}
