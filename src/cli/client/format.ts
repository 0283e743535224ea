/** A file as GET /api/v1/files/:id returns it (the fields the CLI shows). */
export interface FileView {
  id: string;
  name: string;
  status: string;
  upload_time?: string | null;
  size?: number | null;
  sha256?: string | null;
  warehouse_path?: string | null;
  processing_ms?: number | null;
  aggregations?: unknown;
  invalid_rows?: { total: number; items: { row: number; error: string }[] } | null;
  error?: { code: string; message: string } | null;
  duplicate_of?: string | null;
}

export const FINAL_STATUSES = new Set(["processed", "partial", "failed", "duplicate"]);

export function humanBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "-";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** Several lines describing one file, for `sluice status` and `sluice upload --wait`. */
export function describeFile(f: FileView): string {
  const lines = [`${f.id}  ${f.name}  ${f.status}`];
  if (f.size !== undefined && f.size !== null) lines.push(`  size        ${humanBytes(f.size)}`);
  if (f.sha256) lines.push(`  sha256      ${f.sha256}`);
  if (f.warehouse_path) lines.push(`  stored at   ${f.warehouse_path}`);
  if (f.duplicate_of) lines.push(`  duplicate of ${f.duplicate_of}`);
  if (f.error) lines.push(`  error       ${f.error.code}: ${f.error.message}`);
  if (f.invalid_rows && f.invalid_rows.total > 0) {
    lines.push(`  invalid rows ${f.invalid_rows.total}`);
    for (const r of f.invalid_rows.items.slice(0, 5)) lines.push(`    row ${r.row}: ${r.error}`);
  }
  if (f.aggregations) lines.push(`  aggregations ${JSON.stringify(f.aggregations)}`);
  return lines.join("\n");
}

/** One line per file, for `sluice ls`. */
export function fileRow(f: FileView): string {
  return [f.id, f.status.padEnd(10), humanBytes(f.size).padStart(10), f.upload_time ?? "", f.name].join("  ");
}
