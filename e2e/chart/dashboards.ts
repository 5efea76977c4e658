// The chart's Grafana dashboards and the metric names their panels' PromQL queries: shared by the
// repo test (names against an exposition built from the instrument factories) and the fleet test
// (names against a live gateway's /metrics after real calls).
import { readdirSync, readFileSync } from "node:fs";

export const dashboardsDirectory = new URL("../../charts/capi-mcp/files/dashboards/", import.meta.url);

const promqlWords = new Set(
  "sum min max avg count stddev stdvar topk bottomk quantile count_values group by without on ignoring group_left group_right and or unless offset bool rate irate increase delta idelta deriv histogram_quantile label_values label_replace label_join abs ceil floor round clamp clamp_min clamp_max time vector scalar absent absent_over_time sum_over_time avg_over_time max_over_time min_over_time count_over_time last_over_time sort sort_desc le inf nan".split(
    " ",
  ),
);

/** Metric names in a PromQL expression: identifiers outside strings, label matchers, ranges and groupings. */
export function metricNamesIn(expression: string): string[] {
  const stripped = expression
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\$\w+/g, " ");
  const names = new Set<string>();
  for (const match of stripped.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)) {
    const [, name, call] = match;
    if (name === undefined || call !== undefined || promqlWords.has(name.toLowerCase())) continue;
    if (/^\d/.test(name)) continue;
    names.add(name);
  }
  return [...names];
}

export interface Panel {
  readonly title?: string;
  readonly targets?: readonly { readonly expr?: string }[];
  readonly panels?: readonly Panel[];
}

export function expressionsOf(panels: readonly Panel[]): { panel: string; expr: string }[] {
  return panels.flatMap((panel) => [
    ...(panel.targets ?? []).flatMap((target) =>
      target.expr ? [{ panel: panel.title ?? "?", expr: target.expr }] : [],
    ),
    ...expressionsOf(panel.panels ?? []),
  ]);
}

export interface DashboardFile {
  readonly file: string;
  readonly dashboard: { readonly uid?: string; readonly panels?: readonly Panel[] };
}

/** Every dashboard JSON file in the chart, parsed. */
export function dashboardFiles(): DashboardFile[] {
  return readdirSync(dashboardsDirectory)
    .filter((file) => file.endsWith(".json"))
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(new URL(file, dashboardsDirectory), "utf8")) }));
}

/** Every panel query of every dashboard, with the metric names it reads. */
export function dashboardQueries(): { file: string; panel: string; expr: string; names: string[] }[] {
  return dashboardFiles().flatMap(({ file, dashboard }) =>
    expressionsOf(dashboard.panels ?? []).map(({ panel, expr }) => ({ file, panel, expr, names: metricNamesIn(expr) })),
  );
}

/** Series names in a Prometheus text exposition (comments and blank lines skipped). */
export function seriesNamesIn(exposition: string): Set<string> {
  return new Set(
    exposition
      .split("\n")
      .filter((line) => line !== "" && !line.startsWith("#"))
      .map((line) => line.replace(/[{ ].*$/, "")),
  );
}
