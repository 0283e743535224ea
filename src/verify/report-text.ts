import type { ProblemKind, VerifyReport } from "./reconcile.js";

const WHAT: Record<ProblemKind, string> = {
  object_missing: "stored file missing from the warehouse",
  object_mismatch: "stored file differs from what state recorded",
  output_missing: "processing output missing",
  manifest_missing: "finished file without a manifest line",
  manifest_doubled: "file with more than one manifest line",
  manifest_orphan: "manifest line for a file the state does not know",
  manifest_unreadable: "unreadable manifest line",
  orphan_object: "object in the warehouse the state does not know",
  orphan_output: "output of a file that was not stored (the state does not record it)",
  temp_file: "temp file left in the work area",
  stuck: "file unfinished for too long",
};

const n = (x: number) => x.toLocaleString("en-US");

/** The human report: totals, then each kind of drift with a few examples, then what `--repair` did. */
export function renderReport(r: VerifyReport, maxExamples = 5): string {
  const out: string[] = [];
  const f = r.files;
  out.push(`sluice verify: ${r.warehouse}`);
  out.push(
    `  state: ${n(f.total)} files (${n(f.done)} stored, ${n(f.duplicate)} duplicates, ${n(f.failed)} failed, ${n(f.in_flight)} in flight)`,
  );
  out.push(
    `  checked: ${n(r.checked.objects)} stored files (size and SHA-256), ${n(r.checked.outputs)} outputs, ` +
      `${n(r.checked.manifest_lines)} manifest lines, ${n(r.checked.warehouse_objects)} warehouse objects` +
      (r.checked.pruned_originals > 0
        ? ` (${n(r.checked.pruned_originals)} pruned originals among the stored files)`
        : ""),
  );
  for (const p of r.repaired) out.push(`  repaired: ${WHAT[p.kind]}: ${p.path ?? p.ingest_id ?? ""}`);
  if (r.problems.length === 0) {
    out.push("  drift: none");
    return `${out.join("\n")}\n`;
  }
  const byKind = new Map<ProblemKind, typeof r.problems>();
  for (const p of r.problems) byKind.set(p.kind, [...(byKind.get(p.kind) ?? []), p]);
  out.push(`  drift: ${n(r.problems.length)} problem(s)`);
  for (const [kind, list] of byKind) {
    out.push(`  ${n(list.length)} × ${WHAT[kind]}${list[0]?.repairable ? " (--repair fixes this)" : ""}`);
    for (const p of list.slice(0, maxExamples)) {
      out.push(`    ${p.ingest_id ? `${p.ingest_id} ` : ""}${p.path ?? ""}: ${p.detail}`);
    }
    if (list.length > maxExamples) out.push(`    … and ${n(list.length - maxExamples)} more (--json lists all)`);
  }
  return `${out.join("\n")}\n`;
}
