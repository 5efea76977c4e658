/** A cell's value: undefined or "" print as `<none>` like kubectl; null prints as a blank. */
export type TableCell = string | number | boolean | null | undefined;

/** Table cells are single-line: a newline inside one would break every column after it. */
function cellText(cell: TableCell): string {
  if (cell === null) return "";
  if (cell === undefined || cell === "") return "<none>";
  return String(cell).replace(/\s+/g, " ").trim() || "<none>";
}

/**
 * Plain text, columns aligned with two spaces, like `kubectl get`. The last column is not
 * padded and no line has trailing spaces, which keeps long tables small.
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly TableCell[])[]): string {
  const texts = rows.map((row) => headers.map((_, index) => cellText(row[index])));
  const widths = headers.map((header, index) =>
    Math.max(header.length, ...texts.map((row) => (row[index] ?? "").length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, index) => (index === cells.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...texts.map(line)].join("\n");
}

/** Shortens free text (event messages, annotation values) for one table cell or summary line. */
export function truncateText(text: string, maximumLength: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= maximumLength ? flat : `${flat.slice(0, Math.max(0, maximumLength - 1))}…`;
}
