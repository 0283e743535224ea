import type { DuckDBConnection } from "@duckdb/node-api";
import type { ColumnProfile, ProfileValue, TableProfile } from "../../core/profile.js";
import { sqlIdent, sqlString } from "./duckdb-session.js";
import { type Footer, readFooter } from "./parquet-footer.js";

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
 * The same TableProfile as `profileParquet` (duckdb-session.ts), without reading the data where the footer
 * already holds the answer: row count, null counts and the min/max of every column whose row-group statistics
 * are exact (see {@link readFooter}) come from two queries over `parquet_metadata()`. Any other column is scanned,
 * one query per column (a lone min/max per column stays a columnar scan of that column only).
 */
export async function profileParquetByColumn(
  conn: DuckDBConnection,
  parquetPath: string,
  known?: Footer | null,
): Promise<TableProfile> {
  const footer = known === undefined ? await readFooter(conn, parquetPath) : known;
  if (footer === null) return profileByScan(conn, parquetPath);
  const columns: ColumnProfile[] = [];
  for (const c of footer.columns) {
    if (c.exact) {
      columns.push({
        ...nameAndType(c),
        nullCount: c.nullCount,
        min: asValue(c.min, c.type),
        max: asValue(c.max, c.type),
      });
    } else {
      columns.push(await scanColumn(conn, parquetPath, c));
    }
  }
  return { rowCount: footer.rowCount, columns };
}

const nameAndType = (c: { name: string; type: string }) => ({ name: c.name, type: c.type });

async function scanColumn(
  conn: DuckDBConnection,
  parquetPath: string,
  c: { name: string; type: string },
): Promise<ColumnProfile> {
  const id = sqlIdent(c.name);
  const r = await conn.runAndReadAll(
    `SELECT count(*) - count(${id}) AS n, min(${id})::VARCHAR AS lo, max(${id})::VARCHAR AS hi FROM ${readParquetSql(parquetPath)}`,
  );
  const s = r.getRowObjectsJS()[0] ?? {};
  return { ...nameAndType(c), nullCount: Number(s.n ?? 0), min: asValue(s.lo, c.type), max: asValue(s.hi, c.type) };
}

const readParquetSql = (path: string) => `read_parquet(${sqlString(path)})`;

/** Every column scanned: for a Parquet whose columns do not map onto leaf columns (nested types). */
async function profileByScan(conn: DuckDBConnection, parquetPath: string): Promise<TableProfile> {
  const src = readParquetSql(parquetPath);
  const described = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`);
  const cols = described.getRowObjectsJS().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  const count = await conn.runAndReadAll(`SELECT count(*) AS n FROM ${src}`);
  const rowCount = Number(count.getRowObjectsJS()[0]?.n ?? 0);
  const columns: ColumnProfile[] = [];
  for (const c of cols) columns.push(await scanColumn(conn, parquetPath, c));
  return { rowCount, columns };
}
