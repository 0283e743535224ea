import type pg from "pg";
import { sqlString } from "../../src/processors/tabular/duckdb-session.js";
import { bareName, type DiffTable } from "./pg-tables.js";

/** What one table's comparison found. */
export interface TableComparison {
  table: string;
  rows: number;
  cells: number;
  mismatches: string[];
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
const SHOWN = 120;

function show(v: string | null): string {
  if (v === null) return "NULL";
  return JSON.stringify(v.length > SHOWN ? `${v.slice(0, SHOWN)}…(${v.length} chars)` : v);
}

/**
 * Every cell of a table: PostgreSQL's own rows against the Parquet sluice wrote, matched by `id`, each cell in
 * its kind's canonical text (canonical.ts). Rows listed in `invalid` must be missing from the Parquet; any other
 * missing or extra row, wrong column type or differing cell is a mismatch.
 */
export async function compareTable(
  client: pg.Client,
  duck: (sql: string) => Promise<Record<string, unknown>[]>,
  t: DiffTable,
  parquetPath: string,
): Promise<TableComparison> {
  const mismatches: string[] = [];
  const src = `read_parquet(${sqlString(parquetPath)})`;
  const types = new Map((await duck(`DESCRIBE SELECT * FROM ${src}`)).map((r) => [r.column_name, r.column_type]));
  for (const c of t.columns) {
    const type = types.get(bareName(c));
    if (type === undefined) mismatches.push(`${t.name}.${bareName(c)}: no such column in the Parquet`);
    else if (!c.canon.duckType.test(String(type))) mismatches.push(`${t.name}.${bareName(c)}: column type ${type}`);
  }
  if (mismatches.length > 0) return { table: t.name, rows: 0, cells: 0, mismatches };
  const pgCols = t.columns.map((c, i) => `${c.canon.pgSql(c.name)} AS v${i}`);
  const pgRows = (await client.query(`SELECT id, ${pgCols.join(", ")} FROM ${t.name} ORDER BY id`)).rows as Record<
    string,
    unknown
  >[];
  const duckCols = t.columns.map((c, i) => `${c.canon.duckSql(ident(bareName(c)))} AS v${i}`);
  const duckRows = await duck(`SELECT id, ${duckCols.join(", ")} FROM ${src} ORDER BY id`);
  const byId = new Map(duckRows.map((r) => [Number(r.id), r]));
  let rows = 0;
  let cells = 0;
  for (const p of pgRows) {
    const id = Number(p.id);
    const d = byId.get(id);
    byId.delete(id);
    if (t.invalid?.[id]) {
      if (d) mismatches.push(`${t.name} id=${id}: kept, but sluice must refuse it`);
      continue;
    }
    if (!d) {
      mismatches.push(`${t.name} id=${id}: row missing from the Parquet`);
      continue;
    }
    rows++;
    t.columns.forEach((c, i) => {
      cells++;
      const want = c.canon.pgCanon(p[`v${i}`] ?? null);
      const got = c.canon.duckCanon(d[`v${i}`] ?? null);
      if (want !== got)
        mismatches.push(`${t.name} id=${id} ${bareName(c)}: source ${show(want)}, Parquet ${show(got)}`);
    });
  }
  for (const id of byId.keys()) mismatches.push(`${t.name} id=${id}: in the Parquet, not in the source`);
  return { table: t.name, rows, cells, mismatches };
}
