import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type ConvertResult, TabularError } from "../../../src/processors/tabular/index.js";

/**
 * What sluice did with one file of a conformance suite, in the words the suites use: accepted (ingested: a table,
 * or a document kept raw with a note) or refused (quarantined with a code and a reason). `crashed` is neither: an
 * error that is not a refusal of the input (an internal or DuckDB failure), a deviation for every kind of case.
 */
export type Outcome =
  | { kind: "table"; rows: number }
  | { kind: "note"; note: string }
  | { kind: "refused"; code: string; reason: string }
  | { kind: "crashed"; error: string };

export const accepted = (o: Outcome): boolean => o.kind === "table" || o.kind === "note";

/** The outcome of convertTabular: a result, or the error it threw. */
export function outcomeOf(r: ConvertResult | unknown): Outcome {
  if (r instanceof TabularError) return { kind: "refused", code: r.code, reason: r.message };
  if (r instanceof Error) return { kind: "crashed", error: r.message.split("\n")[0] ?? r.name };
  const c = r as ConvertResult;
  // No valid row at all: the pipeline quarantines the file as SLUICE_ERR_NO_VALID_ROWS (process-file.ts).
  if (c.validation?.status === "failed") {
    return { kind: "refused", code: "SLUICE_ERR_NO_VALID_ROWS", reason: `${c.validation.invalidCount} invalid rows` };
  }
  if (c.parquetPath) return { kind: "table", rows: c.profile?.rowCount ?? -1 };
  return { kind: "note", note: c.note ?? "(no note)" };
}

/** One word for the docs table and for comparing the direct call with the CLI. */
export function outcomeLabel(o: Outcome): string {
  switch (o.kind) {
    case "table":
      return "accepted: table";
    case "note":
      return "accepted: not a table";
    case "refused":
      return `refused: ${o.code}`;
    default:
      return "crashed";
  }
}

export function describeOutcome(o: Outcome): string {
  switch (o.kind) {
    case "table":
      return `accepted as a table of ${o.rows} rows`;
    case "note":
      return `accepted, not a table (${o.note})`;
    case "refused":
      return `refused ${o.code}: ${o.reason}`;
    default:
      return `crashed: ${o.error}`;
  }
}

export const REPO = join(import.meta.dirname, "..", "..", "..");
export const CONFORMANCE_DOC = join(REPO, "docs", "conformance.md");

/**
 * The rows of the table in docs/conformance.md that records what sluice does with each implementation-defined
 * (`i_`) case: `| \`i_….json\` | accepted: not a table | why |`. The test checks that the docs still say what sluice
 * does, so the committed record cannot go stale.
 */
export function documentedOutcomes(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(CONFORMANCE_DOC, "utf8").split("\n")) {
    const m = /^\|\s*`(i_[^`]+\.json)`\s*\|\s*([^|]+?)\s*\|/.exec(line);
    if (m) out.set(m[1] as string, m[2] as string);
  }
  return out;
}

/** One summary block for the test log: per category, what ran, what was as expected, and every deviation. */
export function summaryBlock(title: string, rows: { label: string; run: number; ok: number; deviations: string[] }[]) {
  const lines = [title];
  for (const r of rows) {
    lines.push(`  ${r.label}: ${r.run} run, ${r.ok} as expected, ${r.deviations.length} deviation(s)`);
    for (const d of r.deviations) lines.push(`    - ${d}`);
  }
  return lines.join("\n");
}
