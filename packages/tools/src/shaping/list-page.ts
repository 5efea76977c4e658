import type { KubeList, KubeObject } from "@capi-mcp/core";
import { byteLength, fitToBudget } from "./budget.js";

/**
 * The largest `count` (at most `total`) for which `size(count)` stays within `budgetBytes`;
 * `size` must grow with the count, as a rendered prefix of rows does.
 */
export function largestFittingCount(total: number, size: (count: number) => number, budgetBytes: number): number {
  let low = 0;
  let high = total;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (size(middle) <= budgetBytes) low = middle;
    else high = middle - 1;
  }
  return low;
}

export interface FitListPageOptions {
  /** One upstream page of at most `limit` objects, from the same position every time. */
  readonly fetch: (limit: number) => Promise<KubeList>;
  /**
   * The body for these rows; "" for none. Either one text for all rows (a table, whose
   * columns depend on every row), or one text per row joined by a separator (names, YAML),
   * which lets the fit add sizes up instead of rendering again.
   */
  readonly render:
    | { readonly whole: (items: readonly KubeObject[]) => string }
    | { readonly each: (item: KubeObject) => string; readonly separator: string };
  /** Counts, paging and notes for this page as fetched. */
  readonly footer: (list: KubeList, note: string | undefined) => string;
  readonly limit: number;
  /** Upper bound on body, newline and footer together, in UTF-8 bytes. */
  readonly budgetBytes: number;
  /** What to say when one object alone is larger than the budget, in the tool's own words. */
  readonly oversizedHint: string;
}

export interface FittedListPage {
  readonly list: KubeList;
  readonly body: string;
  readonly footer: string;
}

// Room kept for the footer of a page fetched again: its continue token (sealed, of a length
// that varies a little) and its counts differ from the footer measured.
const footerSlackBytes = 160;
// A page fetched again from the same position returns the same objects, so one more fetch is
// the rule; the bound only matters while objects change between fetches.
const maximumFetches = 6;

function fits(body: string, footer: string, budgetBytes: number): boolean {
  return byteLength(body) + 1 + byteLength(footer) <= budgetBytes;
}

/**
 * One page of a list that fits its byte budget whole, so no row is ever cut and the page's
 * continue token resumes right after the last row shown. When the rows fetched do not fit, the
 * page is fetched again, from the same position, with the number of rows that do: the API
 * server's token then points after exactly those rows. Only an object larger than the whole
 * budget on its own is shown cut, alone on its page, and the token resumes after it.
 */
interface RenderedRows {
  readonly body: string;
  /** Bytes of the body holding only the first `count` rows. */
  prefixBytes(count: number): number;
}

function renderRows(render: FitListPageOptions["render"], items: readonly KubeObject[]): RenderedRows {
  if ("whole" in render) {
    return { body: render.whole(items), prefixBytes: (count) => byteLength(render.whole(items.slice(0, count))) };
  }
  const rows = items.map((item) => render.each(item));
  const separatorBytes = byteLength(render.separator);
  const cumulative = [0];
  for (const row of rows) cumulative.push((cumulative.at(-1) ?? 0) + byteLength(row));
  return {
    body: rows.join(render.separator),
    prefixBytes: (count) => (cumulative[count] ?? 0) + Math.max(0, count - 1) * separatorBytes,
  };
}

export async function fitListPage(options: FitListPageOptions): Promise<FittedListPage> {
  let limit = options.limit;
  for (let fetches = 0; fetches < maximumFetches; fetches++) {
    const list = await options.fetch(limit);
    const note =
      limit < options.limit
        ? `This page holds ${list.items.length} objects instead of up to ${options.limit} so that it fits the answer budget; the next page starts right after the last one shown.`
        : undefined;
    const rows = renderRows(options.render, list.items);
    const footer = options.footer(list, note);
    if (fits(rows.body, footer, options.budgetBytes)) return { list, body: rows.body, footer };
    const reserve = byteLength(footer) + footerSlackBytes + 1;
    const fitting = largestFittingCount(list.items.length, rows.prefixBytes, options.budgetBytes - reserve);
    if (fitting === 0) break;
    // Strictly fewer than fetched (all of them did not fit), so the loop ends.
    limit = Math.min(fitting, limit - 1);
  }
  return oversizedPage(options);
}

async function oversizedPage(options: FitListPageOptions): Promise<FittedListPage> {
  const list = await options.fetch(1);
  const footer = options.footer(
    list,
    list.items.length === 0
      ? undefined
      : "This page holds a single object that is larger than the answer budget on its own, so it was cut; the next page starts right after it.",
  );
  const { body } = renderRows(options.render, list.items);
  if (fits(body, footer, options.budgetBytes)) return { list, body, footer };
  const cut = fitToBudget(body, { budgetBytes: options.budgetBytes, footer, narrowHint: options.oversizedHint });
  return { list, body: cut.text.slice(0, Math.max(0, cut.text.length - footer.length - 1)), footer };
}
