import { plural } from "../support/answer.js";
import type { FanOutOutcome } from "../support/fan-out.js";
import { byteLength, fitToBudget } from "./budget.js";

/** One cluster's part of a fleet-wide answer. */
export interface ClusterSection {
  readonly cluster: string;
  /** The table (or names, or YAML); "" when there is nothing to show. */
  readonly body: string;
  /** Counts, paging and notes: never cut. */
  readonly footer: string;
}

export interface FleetAnswer {
  /** What was asked of how many clusters, and how many answered. */
  readonly header: string;
  readonly sections: readonly ClusterSection[];
  readonly failures: readonly { readonly cluster: string; readonly message: string }[];
  readonly budgetBytes: number;
  /** How to ask for less, in the tool's own argument names. */
  readonly narrowHint: string;
}

function heading(cluster: string): string {
  return `## ${cluster}`;
}

// Room for the answer's header and the errors' heading, never given to a cluster.
const fleetHeaderReserveBytes = 1024;
// A heading is followed by a newline, and sections are separated by a blank line.
const sectionSeparatorBytes = 4;

/** Each cluster's equal share of a fleet-wide answer: its section, or its error line. */
function clusterShareBytes(budgetBytes: number, clusters: number): number {
  return Math.floor((budgetBytes - fleetHeaderReserveBytes) / Math.max(1, clusters));
}

/**
 * The bytes one cluster's body and footer may take in a fleet-wide answer. A section fitted to
 * this (see fitListPage) is never cut by renderFleetAnswer, so its continue token stays exact.
 */
export function fleetSectionBudget(budgetBytes: number, clusters: number, cluster: string): number {
  return clusterShareBytes(budgetBytes, clusters) - byteLength(heading(cluster)) - sectionSeparatorBytes;
}

function cappedFailure(failure: { cluster: string; message: string }, shareBytes: number) {
  const room = Math.max(80, shareBytes - byteLength(failure.cluster) - 3);
  if (byteLength(failure.message) <= room) return failure;
  // Cut a little short: a character split by the cut decodes as one 3-byte replacement.
  const cut = Buffer.from(failure.message, "utf8")
    .subarray(0, room - 8)
    .toString("utf8");
  return { cluster: failure.cluster, message: `${cut} …` };
}

function renderSection(section: ClusterSection, body: string): string {
  return [heading(section.cluster), body, section.footer].filter((part) => part !== "").join("\n");
}

/**
 * Shares the bytes left for bodies among the sections: small ones keep everything, and the
 * rest split what remains equally, so one huge cluster cannot crowd out all the others.
 */
function shareBudget(sizes: readonly number[], available: number): number[] {
  const order = sizes.map((size, index) => ({ size, index })).sort((left, right) => left.size - right.size);
  const shares = new Array<number>(sizes.length).fill(0);
  let remaining = Math.max(0, available);
  order.forEach(({ size, index }, position) => {
    const share = Math.floor(remaining / (order.length - position));
    shares[index] = Math.min(size, share);
    remaining -= shares[index] ?? 0;
  });
  return shares;
}

/**
 * A fleet-wide answer within the byte budget: a header, one section per cluster that answered
 * (heading, body, footer) and one line per cluster that failed. Sections that do not fit are
 * cut at a line boundary with a note, each keeping its footer (paging tokens); the error lines
 * are never cut.
 */
export function renderFleetAnswer(answer: FleetAnswer): string {
  const errors =
    answer.failures.length === 0
      ? ""
      : [
          `Errors (${answer.failures.length} of ${answer.sections.length + answer.failures.length} clusters):`,
          ...answer.failures.map((failure) => `${failure.cluster}: ${failure.message}`),
        ].join("\n");
  const separators = 2 * (answer.sections.length + 2);
  const fixed =
    byteLength(answer.header) +
    byteLength(errors) +
    separators +
    answer.sections.reduce(
      (total, section) => total + byteLength(heading(section.cluster)) + byteLength(section.footer) + 2,
      0,
    );
  const sizes = answer.sections.map((section) => byteLength(section.body));
  const shares = shareBudget(sizes, answer.budgetBytes - fixed);
  const sections = answer.sections.map((section, index) => {
    const share = shares[index] ?? 0;
    if (share >= (sizes[index] ?? 0)) return renderSection(section, section.body);
    const fitted = fitToBudget(section.body, {
      budgetBytes: share + byteLength(section.footer) + 1,
      footer: section.footer,
      narrowHint: answer.narrowHint,
    });
    return `${heading(section.cluster)}\n${fitted.text}`;
  });
  // A backstop for budgets too small for even the cut sections: the error lines still survive.
  return fitToBudget([answer.header, ...sections].join("\n\n"), {
    budgetBytes: answer.budgetBytes,
    footer: errors === "" ? undefined : `\n${errors}`,
    narrowHint: answer.narrowHint,
  }).text;
}

/**
 * A fleet-wide answer from the outcomes of a fan-out: the header (what was asked, how many
 * answered and failed, whether the per-cluster limit was lowered), one section per answering
 * cluster, and the failures last.
 */
export function renderFanOutAnswer<T>(answer: {
  /** What was listed, e.g. `pods` or `Events`. */
  readonly subject: string;
  readonly fleetDescription: string;
  readonly clusterCount: number;
  readonly outcomes: readonly FanOutOutcome<T>[];
  readonly section: (value: T) => { readonly body: string; readonly footer: string };
  readonly limit: number;
  readonly requestedLimit: number;
  readonly budgetBytes: number;
  readonly narrowHint: string;
}): string {
  const sections: ClusterSection[] = [];
  const failures: { cluster: string; message: string }[] = [];
  for (const outcome of answer.outcomes) {
    if (outcome.ok) sections.push({ cluster: outcome.cluster, ...answer.section(outcome.value) });
    else failures.push(cappedFailure(outcome, clusterShareBytes(answer.budgetBytes, answer.clusterCount)));
  }
  const header = [
    `${answer.subject} on ${answer.fleetDescription}: ${sections.length} answered${failures.length === 0 ? "" : `, ${failures.length} failed (errors at the end)`}.`,
    ...(answer.limit < answer.requestedLimit
      ? [`Limit lowered to ${answer.limit} per cluster so ${plural(answer.clusterCount, "cluster")} fit in one answer.`]
      : []),
  ].join("\n");
  return renderFleetAnswer({
    header,
    sections,
    failures,
    budgetBytes: answer.budgetBytes,
    narrowHint: `${answer.narrowHint} Or query fewer clusters.`,
  });
}
