import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { sqlDumpToParquet } from "../../src/processors/sql-dump/index.js";
import { sqlString } from "../../src/processors/tabular/duckdb-session.js";
import { SQL_DUCK, useDumpConversions } from "../suites/sql-dump-suite.js";

/** sqlite3 .dump specifics (the differential test compares whole databases; these pin single rules). */

const conv = useDumpConversions((rel) => rel);

describe("sqlite3 .dump", () => {
  it("names the columns of SQLite's own tables, which the dump fills without a CREATE TABLE", async () => {
    const dump =
      "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n" +
      "CREATE TABLE a (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);\nINSERT INTO a VALUES(1,'x');\n" +
      "ANALYZE sqlite_schema;\nINSERT INTO sqlite_stat1 VALUES('a','ai','2 1');\n" +
      "DELETE FROM sqlite_sequence;\nINSERT INTO sqlite_sequence VALUES('a',2);\nCOMMIT;\n";
    const result = await sqlDumpToParquet(Readable.from([Buffer.from(dump)]), await conv.outDir(), SQL_DUCK);
    expect(result.errors).toEqual([]);
    const read = (table: string) =>
      conv.query(
        `SELECT * FROM read_parquet(${sqlString(result.tables.find((t) => t.table === table)?.parquetPath as string)})`,
      );
    expect(await read("sqlite_sequence")).toEqual([{ name: "a", seq: "2" }]);
    expect(await read("sqlite_stat1")).toEqual([{ tbl: "a", idx: "ai", stat: "2 1" }]);
  });
});
