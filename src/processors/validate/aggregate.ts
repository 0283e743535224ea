import type { DuckDBConnection } from "@duckdb/node-api";
import { sqlIdent, sqlString } from "../tabular/duckdb-session.js";
import { type Footer, footerBoundsSql, readFooter } from "../tabular/parquet-footer.js";
import { codeSuffix } from "./rules-sql.js";
import type { FeedSchema } from "./schema.js";

/** Per-key counts beyond this many keys are cut (the aggregations are stored in state and on the manifest). */
export const MAX_KEYS = 10_000;

function jsonNumber(v: unknown): number | string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === "number") return v;
  return String(v);
}

/** "2024-03-01 00:00:00.000000" (UTC) → "2024-03-01T00:00:00Z"; sub-second digits only when there are any. */
function isoUtc(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const [date, time = "00:00:00"] = String(v).split(" ");
  const [hms, frac = ""] = time.split(".");
  const digits = frac.replace(/0+$/, "");
  return `${date}T${hms}${digits ? `.${digits}` : ""}Z`;
}

/** `sensor_id` → `sensor`, so the per-key counts read `per_sensor_count`. */
function keyStem(name: string): string {
  return codeSuffix(name.replace(/[_\s-]?id$/i, "")) || codeSuffix(name);
}

/**
 * Aggregations over the valid rows, read from the Parquet just written (a
 * columnar scan of a few columns, far cheaper than the CSV): row_count,
 * min/max of the value columns (default: every number/integer column) and of
 * every timestamp column, and counts per key.
 */
export async function aggregateParquet(
  conn: DuckDBConnection,
  parquetPath: string,
  schema: FeedSchema,
  footer?: Footer | null,
): Promise<Record<string, unknown>> {
  const src = `read_parquet(${sqlString(parquetPath)})`;
  // min/max from the row-group statistics where they are exact (parquet-footer.ts), else from the values.
  const known = footer === undefined ? await readFooter(conn, parquetPath) : footer;
  const exact = new Map((known?.columns ?? []).filter((c) => c.exact).map((c) => [c.name, c]));
  const bounds = (name: string) => {
    const col = exact.get(name);
    return col ? footerBoundsSql(col) : { lo: `min(${sqlIdent(name)})`, hi: `max(${sqlIdent(name)})` };
  };
  const numeric =
    schema.valueColumns ?? schema.columns.filter((c) => c.type === "number" || c.type === "integer").map((c) => c.name);
  const stamps = schema.columns.filter((c) => c.type === "timestamp").map((c) => c.name);
  const selects = ["count(*) AS row_count"];
  numeric.forEach((c, i) => {
    const b = bounds(c);
    selects.push(`${b.lo} AS n_lo${i}`, `${b.hi} AS n_hi${i}`);
  });
  stamps.forEach((c, i) => {
    // Convert after aggregating: one conversion per bound instead of one per row.
    const b = bounds(c);
    selects.push(`strftime(${b.lo} AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%f') AS t_lo${i}`);
    selects.push(`strftime(${b.hi} AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%f') AS t_hi${i}`);
  });
  const row = (await conn.runAndReadAll(`SELECT ${selects.join(", ")} FROM ${src}`)).getRowObjectsJS()[0] ?? {};
  const out: Record<string, unknown> = { row_count: jsonNumber(row.row_count) ?? 0 };
  numeric.forEach((c, i) => {
    out[`min_${codeSuffix(c)}`] = jsonNumber(row[`n_lo${i}`]);
    out[`max_${codeSuffix(c)}`] = jsonNumber(row[`n_hi${i}`]);
  });
  stamps.forEach((c, i) => {
    out[`min_${codeSuffix(c)}`] = isoUtc(row[`t_lo${i}`]);
    out[`max_${codeSuffix(c)}`] = isoUtc(row[`t_hi${i}`]);
  });
  if (schema.keyColumn) {
    const key = sqlIdent(schema.keyColumn);
    const reader = await conn.runAndReadAll(
      `SELECT CAST(${key} AS VARCHAR) AS k, count(*) AS n FROM ${src} GROUP BY ALL ORDER BY k NULLS LAST LIMIT ${MAX_KEYS + 1}`,
    );
    const counts: Record<string, number> = {};
    const rows = reader.getRowObjectsJS();
    for (const r of rows.slice(0, MAX_KEYS)) counts[r.k === null ? "(null)" : String(r.k)] = Number(r.n);
    const name = `per_${keyStem(schema.keyColumn)}_count`;
    out[name] = counts;
    if (rows.length > MAX_KEYS) out[`${name}_truncated`] = true;
  }
  return out;
}
