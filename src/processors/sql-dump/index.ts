export type { DuckOptions } from "../tabular/duckdb-session.js";
export { readSqlDump } from "./reader.js";
export { safeName } from "./safe-name.js";
export { type SqlDumpResult, sqlDumpToParquet } from "./to-parquet.js";
export {
  BATCH_ROWS,
  type DeclaredColumn,
  type Dialect,
  NumberText,
  type SqlEvent,
  type SqlValue,
} from "./types.js";
