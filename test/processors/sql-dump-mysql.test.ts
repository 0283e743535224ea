import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { type SqlDumpResult, sqlDumpToParquet } from "../../src/processors/sql-dump/index.js";
import { sqlString } from "../../src/processors/tabular/duckdb-session.js";
import { SQL_DUCK, useDumpConversions } from "../suites/sql-dump-suite.js";

/**
 * What a mysqldump header declares and the values depend on. `--default-character-set=binary` (a common backup
 * recipe for databases mixing charsets) writes `SET NAMES binary` and every text column's bytes in the column's own
 * charset, unconverted: a latin1 column's `Ã©` is the bytes c3 a9, which read as UTF-8 would be a silent `é`.
 * `SET TIME_ZONE='+00:00'` (its --tz-utc default) says which instants the TIMESTAMP values are.
 */

const conv = useDumpConversions((rel) => rel);

async function convertBytes(...parts: (string | number[])[]): Promise<SqlDumpResult> {
  const bytes = Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from(p))));
  return sqlDumpToParquet(Readable.from([bytes]), await conv.outDir(), SQL_DUCK);
}

const CREATE =
  "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `l` varchar(10) CHARACTER SET latin1 COLLATE latin1_swedish_ci DEFAULT NULL,\n" +
  "  `u` text DEFAULT NULL,\n  `w` varchar(4) CHARACTER SET utf16 COLLATE utf16_general_ci DEFAULT NULL,\n" +
  "  `d` date DEFAULT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;\n";

/** Rows of `t`: latin1 `Ã©` and `é€`, UTF-8 `é😀`, UTF-16 `é`, a date; then `Ã©` in every text column. */
function rows(): (string | number[])[] {
  return [
    "INSERT INTO `t` VALUES (1,'",
    [0xc3, 0xa9],
    "','",
    [0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80],
    "','",
    [0x00, 0xe9],
    "','2020-01-02'),(2,'",
    [0xe9, 0x80],
    "',NULL,NULL,NULL);\n",
  ];
}

describe("MySQL column charsets", () => {
  it("decodes each text column in its own charset when the dump says SET NAMES binary", async () => {
    const result = await convertBytes("/*!40101 SET NAMES binary */;\n", CREATE, ...rows());
    expect(result.errors).toEqual([]);
    const t = result.tables.find((x) => x.table === "t")?.parquetPath as string;
    expect(
      await conv.query(`SELECT id, l, u, w, d::VARCHAR AS d FROM read_parquet(${sqlString(t)}) ORDER BY id`),
    ).toEqual([
      { id: 1, l: "\u00c3\u00a9", u: "\u00e9\u{1F600}", w: "\u00e9", d: "2020-01-02" },
      { id: 2, l: "\u00e9\u20ac", u: null, w: null, d: null },
    ]);
  });

  it("decodes every column in the connection's charset otherwise: the server converted them", async () => {
    const result = await convertBytes("/*!40101 SET NAMES utf8mb4 */;\n", CREATE, ...rows());
    // Row 1's latin1 column holds c3 a9, UTF-8 é; its utf16 column holds 00 e9, not UTF-8: refused, never guessed.
    expect(result.errors.map((e) => e.message)).toEqual([
      'column "w": \\x00e9 is not valid utf8mb4 text; row skipped',
      'column "l": \\xe980 is not valid utf8mb4 text; row skipped',
    ]);
  });
});

describe("MySQL TIMESTAMP and the dump's time zone", () => {
  const create =
    "CREATE TABLE `t` (`id` int, `ts` timestamp NULL DEFAULT NULL);\nINSERT INTO `t` VALUES (1,'2038-01-19 03:14:07');\n";

  it("reads mysqldump's TIMESTAMP values as instants at its SET TIME_ZONE offset", async () => {
    for (const [zone, epoch] of [
      ["+00:00", 2147483647n],
      ["+05:30", 2147483647n - 19800n],
    ] as const) {
      const result = await convertBytes(
        `/*!40101 SET NAMES utf8mb4 */;\n/*!40103 SET TIME_ZONE='${zone}' */;\n`,
        create,
      );
      const t = result.tables.find((x) => x.table === "t")?.parquetPath as string;
      const [row] = await conv.query(
        `SELECT typeof(ts) AS type, epoch(ts)::BIGINT AS s FROM read_parquet(${sqlString(t)})`,
      );
      expect(row).toEqual({ type: "TIMESTAMP WITH TIME ZONE", s: epoch });
    }
  });

  it("keeps a dump's TIMESTAMP values as wall-clock times when it declares no time zone (--skip-tz-utc)", async () => {
    const result = await convertBytes("/*!40101 SET NAMES utf8mb4 */;\n", create);
    const t = result.tables.find((x) => x.table === "t")?.parquetPath as string;
    expect(await conv.query(`SELECT typeof(ts) AS type, ts::VARCHAR AS ts FROM read_parquet(${sqlString(t)})`)).toEqual(
      [{ type: "TIMESTAMP", ts: "2038-01-19 03:14:07" }],
    );
  });
});
