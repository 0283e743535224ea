import type { DuckDBConnection } from "@duckdb/node-api";
import type { ColumnProfile, ProfileValue, TableProfile } from "../../core/profile.js";
import { sqlIdent, sqlString } from "./duckdb-session.js";

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/;

/** As profileParquet turns min/max text back into JSON: numbers when exact, strings otherwise. */
function asValue(v: unknown, type: string): ProfileValue {
  if (v === null || v === undefined) return null;
  const s = String(v);
  if (NUMERIC.test(type)) {
    const n = Number(s);
    if (Number.isFinite(n) && (Number.isSafeInteger(n) || !/^-?\d+$/.test(s))) return n;
  }
  return s;
}

/**
 * The same TableProfile as `profileParquet` (duckdb-session.ts), one column
 * per query: DuckDB answers a lone min/max from the Parquet row-group
 * statistics, while one query over all columns scans every value (about
 * 0.3 s per 10 M rows, a tenth of the whole conversion).
 */
export async function profileParquetByColumn(conn: DuckDBConnection, parquetPath: string): Promise<TableProfile> {
  const src = `read_parquet(${sqlString(parquetPath)})`;
  const described = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`);
  const cols = described.getRowObjectsJS().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  const count = await conn.runAndReadAll(`SELECT count(*) AS n FROM ${src}`);
  const rowCount = Number(count.getRowObjectsJS()[0]?.n ?? 0);
  const columns: ColumnProfile[] = [];
  for (const c of cols) {
    const id = sqlIdent(c.name);
    const r = await conn.runAndReadAll(
      `SELECT count(*) - count(${id}) AS n, min(${id})::VARCHAR AS lo, max(${id})::VARCHAR AS hi FROM ${src}`,
    );
    const s = r.getRowObjectsJS()[0] ?? {};
    columns.push({
      name: c.name,
      type: c.type,
      nullCount: Number(s.n ?? 0),
      min: asValue(s.lo, c.type),
      max: asValue(s.hi, c.type),
    });
  }
  return { rowCount, columns };
}
