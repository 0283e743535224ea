import { expect } from "vitest";
import { sqlString } from "../../src/processors/tabular/duckdb-session.js";
import { bareName, type DiffTable } from "./tables.js";

/** Runs one query and gives its rows as objects: the source database's client, or the DuckDB reader. */
export type Query = (sql: string) => Promise<Record<string, unknown>[]>;

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
 * Every cell of a table: the source database's own rows against the Parquet sluice wrote, matched by `id` (or the
 * table's `key`), each
 * cell in its kind's canonical text (canonical.ts). Rows listed in `invalid` must be missing from the Parquet; any
 * other missing or extra row, wrong column type or differing cell is a mismatch.
 */
export async function compareTable(
  source: Query,
  duck: Query,
  t: DiffTable,
  parquetPath: string,
): Promise<TableComparison> {
  const mismatches: string[] = [];
  // The file's own columns: not an `ingest_date` DuckDB would read from a warehouse path's `ingest_date=…/`.
  const src = `read_parquet(${sqlString(parquetPath)}, hive_partitioning = false)`;
  const types = new Map((await duck(`DESCRIBE SELECT * FROM ${src}`)).map((r) => [r.column_name, r.column_type]));
  for (const c of t.columns) {
    const type = types.get(bareName(c));
    if (type === undefined) mismatches.push(`${t.name}.${bareName(c)}: no such column in the Parquet`);
    else if (!c.canon.duckType.test(String(type))) mismatches.push(`${t.name}.${bareName(c)}: column type ${type}`);
  }
  const key = t.key ?? "id";
  const known = new Set([key, ...t.columns.map(bareName)]);
  for (const name of types.keys())
    if (!known.has(String(name))) mismatches.push(`${t.name}.${String(name)}: in the Parquet, not in the source`);
  if (mismatches.length > 0) return { table: t.name, rows: 0, cells: 0, mismatches };
  const srcCols = t.columns.map((c, i) => `${c.canon.sourceSql(c.name)} AS v${i}`);
  const srcRows = await source(`SELECT ${key} AS k0, ${srcCols.join(", ")} FROM ${t.sql ?? t.name} ORDER BY 1`);
  const duckCols = t.columns.map((c, i) => `${c.canon.duckSql(ident(bareName(c)))} AS v${i}`);
  const duckRows = await duck(`SELECT ${ident(key)} AS k0, ${duckCols.join(", ")} FROM ${src} ORDER BY 1`);
  const byId = new Map(duckRows.map((r) => [String(r.k0), r]));
  let rows = 0;
  let cells = 0;
  const invalid: Record<string, RegExp> = t.invalid ?? {};
  for (const p of srcRows) {
    const id = String(p.k0);
    const d = byId.get(id);
    byId.delete(id);
    if (invalid[id]) {
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
      const want = c.canon.sourceCanon(p[`v${i}`] ?? null);
      const got = c.canon.duckCanon(d[`v${i}`] ?? null);
      if (want !== got)
        mismatches.push(`${t.name} id=${id} ${bareName(c)}: source ${show(want)}, Parquet ${show(got)}`);
    });
  }
  for (const id of byId.keys()) mismatches.push(`${t.name} id=${id}: in the Parquet, not in the source`);
  return { table: t.name, rows, cells, mismatches };
}

/** What a whole dump's comparison found. */
export interface DumpComparison {
  tables: number;
  rows: number;
  cells: number;
  mismatches: string[];
  /** Source tables with no output. */
  lost: string[];
  /** Rows sluice refused that no table expects refused. */
  unexplained: string[];
  /** Expected refusals sluice did not make. */
  unmatched: string[];
  refused: number;
}

/**
 * Compares every table of the source with its output (`outputs`: table name → Parquet path). The refused rows
 * (`errors`, as `table: message`) must be exactly the ones the tables expect, each with its reason.
 */
export async function compareDump(
  source: Query,
  duck: Query,
  tables: DiffTable[],
  outputs: Map<string, string>,
  errors: string[],
): Promise<DumpComparison> {
  const results: TableComparison[] = [];
  const lost = tables.filter((t) => !outputs.has(t.name)).map((t) => t.name);
  for (const t of tables) {
    const path = outputs.get(t.name);
    if (path) results.push(await compareTable(source, duck, t, path));
  }
  const refused = tables.flatMap((t) => Object.values(t.invalid ?? {}));
  const sum = (f: (r: TableComparison) => number) => results.reduce((s, r) => s + f(r), 0);
  return {
    tables: results.length,
    rows: sum((r) => r.rows),
    cells: sum((r) => r.cells),
    mismatches: results.flatMap((r) => r.mismatches),
    lost,
    unexplained: errors.filter((e) => !refused.some((r) => r.test(e))),
    unmatched: refused.filter((r) => !errors.some((e) => r.test(e))).map(String),
    refused: errors.length,
  };
}

/** Prints the figures of one dump form and asserts it faithful: no table lost, no cell changed, no stray refusal. */
export function expectFaithful(label: string, c: DumpComparison, outputCount: number, tableCount: number): void {
  console.log(
    `${label}: ${c.tables} tables, ${c.rows} rows, ${c.cells} cells compared; ${c.mismatches.length} mismatches; ` +
      `${c.refused} rows refused by design; tables lost: ${c.lost.length}`,
  );
  for (const m of c.mismatches.slice(0, 50)) console.log(`  mismatch: ${m}`);
  for (const e of c.unexplained.slice(0, 20)) console.log(`  refused without a reason in the test: ${e}`);
  const { lost, mismatches, unexplained, unmatched } = c;
  expect({ lost, mismatches, unexplained, unmatched }).toEqual({
    lost: [],
    mismatches: [],
    unexplained: [],
    unmatched: [],
  });
  expect(outputCount).toBe(tableCount);
}
