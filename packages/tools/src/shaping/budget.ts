const encoder = new TextEncoder();

export function byteLength(text: string): number {
  return encoder.encode(text).length;
}

export interface BudgetOptions {
  /** Upper bound on the whole answer, in UTF-8 bytes. */
  readonly budgetBytes: number;
  /** Kept whole after the (possibly cut) body: paging instructions must survive a cut. */
  readonly footer?: string;
  /** How to ask for less, in the tool's own argument names. */
  readonly narrowHint: string;
}

export interface BudgetedText {
  readonly text: string;
  readonly truncated: boolean;
  readonly omittedBytes: number;
  readonly omittedLines: number;
}

// A note and footer always fit, however small the configured budget: an answer that says it
// was cut and how to narrow the request is worth more than a few more body bytes.
const minimumBodyBytes = 256;

function sliceToBytes(text: string, maximumBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const character of text) {
    const size = byteLength(character);
    if (bytes + size > maximumBytes) break;
    bytes += size;
    end += character.length;
  }
  return text.slice(0, end);
}

function join(parts: readonly string[]): string {
  return parts.filter((part) => part !== "").join("\n");
}

/**
 * Fits an answer into its byte budget. A body that is too long is cut at a line boundary and
 * followed by a note saying that it was cut, how much was left out and how to narrow the
 * request; the footer comes last and is never cut. Only a single line longer than the whole
 * budget is cut inside the line.
 */
export function fitToBudget(body: string, options: BudgetOptions): BudgetedText {
  const footer = options.footer ?? "";
  const whole = join([body, footer]);
  if (byteLength(whole) <= options.budgetBytes) {
    return { text: whole, truncated: false, omittedBytes: 0, omittedLines: 0 };
  }
  const bodyBytes = byteLength(body);
  const lines = body.split("\n");
  // Reserve room for the note with generous numbers in it; the real note is never longer.
  const notePlaceholder = truncationNote(bodyBytes, lines.length, options.narrowHint);
  const available = Math.max(
    minimumBodyBytes,
    options.budgetBytes - byteLength(footer) - byteLength(notePlaceholder) - 2,
  );
  const kept: string[] = [];
  let used = 0;
  for (const line of lines) {
    const size = byteLength(line) + (kept.length > 0 ? 1 : 0);
    if (used + size > available) break;
    kept.push(line);
    used += size;
  }
  if (kept.length === 0) kept.push(sliceToBytes(lines[0] ?? "", available));
  const keptText = kept.join("\n");
  const omittedBytes = bodyBytes - byteLength(keptText);
  const wholeLinesKept = kept.length === 1 && keptText !== lines[0] ? 0 : kept.length;
  const omittedLines = lines.length - wholeLinesKept;
  return {
    text: join([keptText, truncationNote(omittedBytes, omittedLines, options.narrowHint), footer]),
    truncated: true,
    omittedBytes,
    omittedLines,
  };
}

export function truncationNote(omittedBytes: number, omittedLines: number, narrowHint: string): string {
  const lines = omittedLines === 1 ? "1 line" : `${omittedLines} lines`;
  return `[Truncated: this answer was cut to fit the output budget; ${lines} (${omittedBytes} bytes) left out. ${narrowHint}]`;
}
