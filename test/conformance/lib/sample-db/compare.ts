import { basename } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { safeName } from "../../../../src/processors/sql-dump/index.js";
import { sqlIdent, sqlString } from "../../../../src/processors/tabular/duckdb-session.js";
import { parquetReader } from "./parquet-side.js";
import type { Canonical, Restored, SourceTable } from "./sources.js";

/**
 * Every cell of every restored table against sluice's Parquet: tables matched by the output name docs/types.md
 * promises (`<schema>.<table>.parquet` for pg_dump, `<table>.parquet` for mysqldump), rows by primary key, each
 * cell as the canonical text of its source column's kind (kinds.ts). Also the column types against docs/types.md.
 */

export interface Written {
  /** The table as sluice labelled it. */
  table: string;
  parquetPath: string;
}

export interface DumpReport {
  tables: number;
  tablesCompared: number;
  /** Columns whose type was checked against docs/types.md. */
  columns: number;
  rows: number;
  cells: number;
  mismatches: number;
  /** Tables with rows in the database and no Parquet at all. */
  lost: string[];
  /** Parquet files for no table with rows. */
  extra: string[];
  /** A table found under another name than the documented one. */
  naming: string[];
  /** Rows of the database missing from the Parquet, rows of the Parquet the database lacks, columns missing. */
  shape: string[];
  /** Columns whose Parquet type is not the one docs/types.md gives for the source type. */
  types: string[];
  /** The first mismatched cells, each with its table, key, column, types, expected and got. */
  examples: string[];
}

const EXAMPLES = 12;

function short(v: Canonical): string {
  if (v === null) return "NULL";
  const s = JSON.stringify(v);
  return s.length > 100 ? `${s.slice(0, 100)}…" (${v.length} chars)` : s;
}

function rowKey(row: Canonical[], keyIdx: number[]): string {
  return JSON.stringify(keyIdx.map((i) => row[i] ?? null));
}

export async function compareDump(
  conn: DuckDBConnection,
  restored: Restored,
  written: Written[],
  qualified: boolean,
): Promise<DumpReport> {
  const rep: DumpReport = {
    tables: 0,
    tablesCompared: 0,
    columns: 0,
    rows: 0,
    cells: 0,
    mismatches: 0,
    lost: [],
    extra: [],
    naming: [],
    shape: [],
    types: [],
    examples: [],
  };
  const used = new Set<string>();
  for (const t of restored.tables.filter((x) => x.rows.length > 0)) {
    rep.tables++;
    rep.rows += t.rows.length;
    const bare = t.name.split(".").pop() as string;
    const stem = safeName(qualified ? t.name : bare);
    let w = written.find((x) => basename(x.parquetPath) === `${stem}.parquet`);
    if (!w) {
      // Still compared under another name, so its values are checked; the name is a deviation of its own.
      w = written.find((x) => !used.has(x.parquetPath) && [t.name, bare].includes(x.table));
      if (w) rep.naming.push(`${t.name}: written as ${basename(w.parquetPath)}, documented as ${stem}.parquet`);
    }
    if (!w) {
      rep.lost.push(`${t.name} (${t.rows.length} rows)`);
      continue;
    }
    used.add(w.parquetPath);
    rep.tablesCompared++;
    await compareTable(conn, t, w.parquetPath, rep);
  }
  for (const w of written) if (!used.has(w.parquetPath)) rep.extra.push(`${w.table} (${basename(w.parquetPath)})`);
  return rep;
}

async function compareTable(conn: DuckDBConnection, t: SourceTable, parquet: string, rep: DumpReport): Promise<void> {
  const src = `read_parquet(${sqlString(parquet)}, hive_partitioning = false)`;
  const described = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRowObjectsJS();
  const types = new Map(described.map((d) => [String(d.column_name), String(d.column_type)]));
  for (const name of types.keys()) {
    if (!t.columns.some((c) => c.name === name)) rep.shape.push(`${t.name}: Parquet column ${name} not in the table`);
  }
  const present = t.columns.map((c, i) => ({ c, i, type: types.get(c.name) })).filter((x) => x.type !== undefined);
  for (const c of t.columns) {
    const type = types.get(c.name);
    if (type === undefined) {
      rep.shape.push(`${t.name}: column ${c.name} (${c.declared}) missing from the Parquet`);
      continue;
    }
    rep.columns++;
    if (type !== c.contract) {
      rep.types.push(
        `${t.name}.${c.name}: ${c.declared} must be ${c.contract} (docs/types.md), the Parquet has ${type}`,
      );
    }
  }
  const readers = present.map((p) => parquetReader(p.c.kind, p.type as string, p.c.element));
  const select = present.map((p, j) => readers[j]?.sql(sqlIdent(p.c.name), j));
  const got = (await conn.runAndReadAll(`SELECT ${select.join(", ")} FROM ${src}`)).getRowObjectsJS();

  // Rows are matched by primary key; a table without one by all its values (a multiset).
  const keyIdx =
    t.key.length > 0 ? t.key.map((k) => t.columns.findIndex((c) => c.name === k)) : t.columns.map((_, i) => i);
  const want = new Map<string, Canonical[][]>();
  for (const row of t.rows) {
    const k = rowKey(row, keyIdx);
    const same = want.get(k);
    if (same) same.push(row);
    else want.set(k, [row]);
  }
  let extraRows = 0;
  for (const g of got) {
    const row: Canonical[] = new Array(t.columns.length).fill(null);
    present.forEach((p, j) => {
      row[p.i] = readers[j]?.canonical(g[`a${j}`] ?? null, (g[`r${j}`] as string | null) ?? null) ?? null;
    });
    const k = rowKey(row, keyIdx);
    const match = want.get(k)?.shift();
    if (!match) {
      extraRows++;
      if (extraRows <= 3) rep.shape.push(`${t.name}: a Parquet row matches no row of the table, key ${k}`);
      continue;
    }
    for (const p of present) {
      rep.cells++;
      const expected = match[p.i] ?? null;
      const actual = row[p.i] ?? null;
      if (expected === actual) continue;
      rep.mismatches++;
      if (rep.examples.length < EXAMPLES) {
        rep.examples.push(
          `${t.name} ${t.key.length ? `${t.key.join(",")}=${k}` : `row ${k.slice(0, 60)}`} column ${p.c.name} ` +
            `(${p.c.declared} -> Parquet ${p.type}): expected ${short(expected)}, got ${short(actual)}`,
        );
      }
    }
  }
  const missing = [...want.values()].reduce((n, rows) => n + rows.length, 0);
  if (missing > 0) rep.shape.push(`${t.name}: ${missing} row(s) of the table not in the Parquet`);
  if (extraRows > 3) rep.shape.push(`${t.name}: ${extraRows} Parquet rows in all match no row of the table`);
}

/** The report as the test prints it. */
export function formatReport(dump: string, restored: Restored, rep: DumpReport, errors: string[]): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const lines = [
    `${dump} (restored into ${restored.server}, database ${restored.database}):`,
    `  tables with rows: ${rep.tables}, rows: ${n(rep.rows)}; compared: ${rep.tablesCompared} tables, ${n(rep.cells)} cells; mismatched cells: ${n(rep.mismatches)}`,
    `  column types: ${rep.columns} checked, ${rep.columns - rep.types.length} as docs/types.md says`,
  ];
  const list = (label: string, items: string[], max = 8) => {
    if (items.length === 0) return;
    lines.push(`  ${label} (${items.length}):`);
    for (const i of items.slice(0, max)) lines.push(`    - ${i}`);
    if (items.length > max) lines.push(`    … ${items.length - max} more`);
  };
  list("tables lost", rep.lost, 50);
  list("Parquet for no table with rows", rep.extra);
  list("named otherwise than docs/types.md", rep.naming, 50);
  list("rows or columns not matching", rep.shape, 20);
  list("column types not per docs/types.md", rep.types, 50);
  list("first mismatched cells", rep.examples, EXAMPLES);
  list("errors sluice reported for the dump", errors, 5);
  return lines.join("\n");
}
