import { basename } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { type SqlDumpResult, sqlDumpToParquet } from "../../src/processors/sql-dump/index.js";
import { sqlString } from "../../src/processors/tabular/duckdb-session.js";
import { SQL_DUCK, useDumpConversions } from "../suites/sql-dump-suite.js";

/**
 * Value for value fidelity on small dumps written the way the real tools write them (issue 16): raw binary bytes,
 * declared charsets, schema-qualified names, exact types, keyword-named columns, SSMS batches, SQLite affinity.
 */

const conv = useDumpConversions((rel) => rel);

async function convertBytes(...parts: (string | number[])[]): Promise<SqlDumpResult> {
  const bytes = Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from(p))));
  return sqlDumpToParquet(Readable.from([bytes]), await conv.outDir(), SQL_DUCK);
}

function src(result: SqlDumpResult, table: string): string {
  const t = result.tables.find((x) => x.table === table);
  if (!t) throw new Error(`no table ${table} in ${result.tables.map((x) => x.table)}`);
  return `read_parquet(${sqlString(t.parquetPath)})`;
}

async function types(result: SqlDumpResult, table: string): Promise<Record<string, string>> {
  const rows = await conv.query(`DESCRIBE SELECT * FROM ${src(result, table)}`);
  return Object.fromEntries(rows.map((r) => [String(r.column_name), String(r.column_type)]));
}

const hex = (sql: string) => `lower(hex(${sql}))`;

describe("binary-safe values", () => {
  it("keeps mysqldump's raw BLOB/VARBINARY/BIT bytes exactly, whatever the escapes", async () => {
    const result = await convertBytes(
      "/*!40101 SET NAMES utf8mb4 */;\nCREATE TABLE `b` (`id` int, `blob` blob, `vb` varbinary(8), `bits` bit(16), `t` text);\n",
      "INSERT INTO `b` VALUES (1,'",
      [0xde, 0xad, 0xbe, 0xef],
      "\\0",
      [0xff],
      "',_binary '",
      [0x80, 0x81],
      "\\\\\\'','",
      [0x01, 0x02],
      "','caf\u00e9'),(2,0xDEADBEEF00FF,X'00FF',b'101',NULL),(3,'',_binary '',0x0102,'');\n",
    );
    expect(result.errors).toEqual([]);
    expect(await types(result, "b")).toMatchObject({ blob: "BLOB", vb: "BLOB", bits: "UBIGINT", t: "VARCHAR" });
    const rows = await conv.query(
      `SELECT id, ${hex("blob")} AS b, ${hex("vb")} AS vb, bits, t FROM ${src(result, "b")} ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: 1, b: "deadbeef00ff", vb: "80815c27", bits: 0x0102n, t: "caf\u00e9" },
      { id: 2, b: "deadbeef00ff", vb: "00ff", bits: 5n, t: null },
      { id: 3, b: "", vb: "", bits: 0x0102n, t: "" },
    ]);
  });

  it("makes a row whose text is not valid in the declared charset invalid, never a replacement character", async () => {
    const result = await convertBytes(
      "/*!40101 SET NAMES utf8mb4 */;\nCREATE TABLE `t` (`id` int, `s` varchar(10));\nINSERT INTO `t` VALUES (1,'ok'),(2,'",
      [0x61, 0xff, 0x62],
      "'),(3,'fine');\n",
    );
    expect(result.errors).toEqual([
      { table: "t", line: 3, message: 'column "s": \\x61ff62 is not valid utf8mb4 text; row skipped' },
    ]);
    expect(await conv.query(`SELECT id, s FROM ${src(result, "t")} ORDER BY id`)).toEqual([
      { id: 1, s: "ok" },
      { id: 3, s: "fine" },
    ]);
  });

  it("decodes text in the charset the dump declares (SET NAMES latin1 is cp1252, client_encoding LATIN1 is ISO 8859-1)", async () => {
    const mysql = await convertBytes(
      "/*!40101 SET NAMES latin1 */;\nINSERT INTO `t` VALUES ('",
      [0x63, 0x61, 0x66, 0xe9, 0x80],
      "');\n",
    );
    expect(await conv.query(`SELECT c1 FROM ${src(mysql, "t")}`)).toEqual([{ c1: "caf\u00e9\u20ac" }]);
    const pg = await convertBytes(
      "SET client_encoding = 'LATIN1';\nCOPY public.t (a) FROM stdin;\n",
      [0xe9, 0x80],
      "\n\\.\n",
    );
    expect(await conv.query(`SELECT a FROM ${src(pg, "public.t")}`)).toEqual([{ a: "\u00e9\u0080" }]);
  });

  it("reads pg bytea in hex and escape formats, in COPY and in INSERTs, and \\N as NULL", async () => {
    const result = await convertBytes(
      "SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\n",
      "CREATE TABLE public.b (id integer, v bytea);\n",
      "COPY public.b (id, v) FROM stdin;\n1\t\\\\x00ff5c\n2\t\\\\001\\\\\\\\a\\\\377\n3\t\\N\n4\t\n\\.\n",
      "INSERT INTO public.b VALUES (5, '\\x0a0d'), (6, '\\134\\000'), (7, E'\\\\xdeadbeef'), (8, ''::bytea);\n",
    );
    expect(result.errors).toEqual([]);
    expect(await conv.query(`SELECT id, ${hex("v")} AS v FROM ${src(result, "public.b")} ORDER BY id`)).toEqual([
      { id: 1, v: "00ff5c" },
      { id: 2, v: "015c61ff" },
      { id: 3, v: null },
      { id: 4, v: "" },
      { id: 5, v: "0a0d" },
      { id: 6, v: "5c00" },
      { id: 7, v: "deadbeef" },
      { id: 8, v: "" },
    ]);
  });
});

describe("schemas", () => {
  it("keeps public.users and app.users apart, each in a file named as the dump qualifies it", async () => {
    const result = await convertBytes(
      "SET client_encoding = 'UTF8';\n",
      "CREATE TABLE public.users (id integer, name text);\nCREATE TABLE app.users (id integer, email text, score numeric(5,2));\n",
      "COPY public.users (id, name) FROM stdin;\n1\tann\n\\.\nCOPY app.users (id, email, score) FROM stdin;\n1\ta@x\t1.50\n\\.\n",
    );
    expect(result.errors).toEqual([]);
    expect(result.tables.map((t) => [t.table, basename(t.parquetPath)])).toEqual([
      ["public.users", "public.users.parquet"],
      ["app.users", "app.users.parquet"],
    ]);
    expect(await types(result, "app.users")).toEqual({ id: "INTEGER", email: "VARCHAR", score: "DECIMAL(5,2)" });
  });
});

describe("exact types", () => {
  it("PostgreSQL: numeric digits, integer widths, timestamps in UTC, uuid, json, arrays as LIST", async () => {
    const result = await convertBytes(
      "SET client_encoding = 'UTF8';\nCREATE TABLE public.x (\n    id smallint, n numeric(20,5), big numeric(50,2), free numeric,\n",
      "    f real, d double precision, ts timestamp(3) without time zone, tz timestamp with time zone, dt date,\n",
      "    tm time, u uuid, j jsonb, a integer[], nd numeric(4,1)[], txt text[], iv interval\n);\n",
      "INSERT INTO public.x VALUES (1, 123456789012345.12345, 123456789012345678901234567890123456789012345678.90, 'NaN',",
      " 'Infinity', '-0', '2024-02-29 23:59:59.999', '1900-01-01 00:19:32+00:19:32', '0044-03-15 BC', '23:59:59.999999',",
      " 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{\"a\": [1, 2]}', '{1,NULL,-2147483648}', '{1.5,NULL}',",
      " '{a,\"b c\"}', '1 day 02:00:00');\n",
    );
    expect(result.errors).toEqual([]);
    expect(await types(result, "public.x")).toEqual({
      id: "SMALLINT",
      n: "DECIMAL(20,5)",
      big: "VARCHAR",
      free: "VARCHAR",
      f: "FLOAT",
      d: "DOUBLE",
      ts: "TIMESTAMP",
      tz: "TIMESTAMP WITH TIME ZONE",
      dt: "DATE",
      tm: "TIME",
      u: "UUID",
      j: "JSON",
      a: "INTEGER[]",
      nd: "DECIMAL(4,1)[]",
      txt: "VARCHAR",
      iv: "VARCHAR",
    });
    const [row] = await conv.query(
      `SELECT n::VARCHAR AS n, big, free, f, d, epoch_us(ts) AS ts, epoch_us(tz) AS tz, dt::VARCHAR AS dt, tm::VARCHAR AS tm, ` +
        `u::VARCHAR AS u, j::VARCHAR AS j, a::VARCHAR AS a, nd::VARCHAR AS nd, txt FROM ${src(result, "public.x")}`,
    );
    expect(row).toEqual({
      n: "123456789012345.12345",
      big: "123456789012345678901234567890123456789012345678.90",
      free: "NaN",
      f: Number.POSITIVE_INFINITY,
      d: -0,
      ts: 1709251199999000n,
      // 1900-01-01 00:00:00 UTC: the offset in seconds is applied exactly.
      tz: -2208988800000000n,
      dt: "0044-03-15 (BC)",
      tm: "23:59:59.999999",
      u: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
      j: '{"a": [1, 2]}',
      a: "[1, NULL, -2147483648]",
      nd: "[1.5, NULL]",
      txt: '{a,"b c"}',
    });
  });

  it("refuses what does not fit, with the reason, and keeps the rest of the table", async () => {
    const result = await convertBytes(
      "SET client_encoding = 'UTF8';\nCREATE TABLE public.r (id integer, n numeric(5,2), s smallint, t time, a int[]);\n",
      "COPY public.r (id, n, s, t, a) FROM stdin;\n1\t1.25\t1\t01:00:00\t{1}\n2\tNaN\t1\t01:00:00\t{1}\n",
      "3\t1.255\t1\t01:00:00\t{1}\n4\t1234.5\t1\t01:00:00\t{1}\n5\t1\t32768\t01:00:00\t{1}\n6\t1\t1\t24:00:00\t{1}\n",
      "7\t1\t1\t01:00:00\t{{1},{2}}\n\\.\n",
    );
    expect(result.errors.map((e) => [e.line, e.message])).toEqual([
      [5, 'column "n": "NaN" is not a valid DECIMAL(5,2); row skipped'],
      [6, 'column "n": "1.255" has more than 2 decimal places: not a valid DECIMAL(5,2); row skipped'],
      [7, 'column "n": "1234.5" has more than 5 digits: not a valid DECIMAL(5,2); row skipped'],
      [8, 'column "s": "32768" is out of range for SMALLINT; row skipped'],
      [9, 'column "t": "24:00:00" is not a valid TIME; row skipped'],
      [10, 'column "a": "{{1},{2}}" is a multi-dimensional array: not a LIST; row skipped'],
    ]);
    expect(await conv.query(`SELECT id FROM ${src(result, "public.r")}`)).toEqual([{ id: 1 }]);
  });

  it("MySQL: unsigned widths to UBIGINT max, DECIMAL, TIMESTAMP as UTC, YEAR, ENUM/SET, GEOMETRY bytes", async () => {
    const result = await convertBytes(
      "/*!40101 SET NAMES utf8mb4 */;\n/*!40103 SET TIME_ZONE='+00:00' */;\n",
      "CREATE TABLE `m` (`id` tinyint unsigned, `s` smallint(5) unsigned zerofill, `m` mediumint, `i` int(10) unsigned,",
      " `b` bigint(20) unsigned, `d` decimal(65,30), `d2` decimal(10,2), `fl` float, `r` real, `ok` tinyint(1), `y` year(4),",
      " `dt` datetime(6), `ts` timestamp NULL, `tm` time, `e` enum('a','b'), `st` set('x','y'), `g` point, `j` json);\n",
      "INSERT INTO `m` VALUES (255,65535,-8388608,4294967295,18446744073709551615,",
      "1.000000000000000000000000000001,-12345678.90,3.5,0.1,1,2155,'1000-01-01 00:00:00.000001','2038-01-19 03:14:07',",
      "'-838:59:59','b','x,y',_binary '",
      [0, 0, 0, 0, 1, 1, 0, 0, 0],
      "','{\\\"k\\\": 1}');\n",
    );
    expect(result.errors).toEqual([]);
    expect(await types(result, "m")).toEqual({
      id: "UTINYINT",
      s: "USMALLINT",
      m: "INTEGER",
      i: "UINTEGER",
      b: "UBIGINT",
      d: "VARCHAR",
      d2: "DECIMAL(10,2)",
      fl: "FLOAT",
      r: "DOUBLE",
      ok: "TINYINT",
      y: "SMALLINT",
      dt: "TIMESTAMP",
      ts: "TIMESTAMP WITH TIME ZONE",
      tm: "VARCHAR",
      e: "VARCHAR",
      st: "VARCHAR",
      g: "BLOB",
      j: "JSON",
    });
    const [row] = await conv.query(
      `SELECT b, d, d2::VARCHAR AS d2, epoch_us(dt) AS dt, epoch_us(ts) AS ts, tm, st, ${hex("g")} AS g, j::VARCHAR AS j FROM ${src(result, "m")}`,
    );
    expect(row).toEqual({
      b: 18446744073709551615n,
      d: "1.000000000000000000000000000001",
      d2: "-12345678.90",
      dt: -30610224000000000n + 1n,
      ts: 2147483647000000n,
      tm: "-838:59:59",
      st: "x,y",
      g: "000000000101000000",
      j: '{"k": 1}',
    });
  });
});

describe("CREATE TABLE: columns named like constraints", () => {
  it("PostgreSQL: fulltext, key, index, period, exclude, spatial… followed by a type are columns", async () => {
    const result = await convertBytes(
      "SET client_encoding = 'UTF8';\nCREATE TABLE public.film (\n    film_id integer NOT NULL,\n    fulltext tsvector NOT NULL,\n",
      '    key integer,\n    index text,\n    period date,\n    exclude boolean,\n    spatial text,\n    "unique" integer,\n',
      '    "primary" text,\n    "check" text,\n    "constraint" text,\n    "foreign" text,\n',
      "    CONSTRAINT film_pk PRIMARY KEY (film_id),\n    CHECK (film_id > 0),\n    UNIQUE (key),\n",
      "    EXCLUDE USING gist (period WITH =)\n);\n",
      'COPY public.film (film_id, fulltext, key, index, period, exclude, spatial, "unique", "primary", "check", "constraint", "foreign") FROM stdin;\n',
      "1\t'academi':1\t7\ti\t2006-02-15\tt\ts\t2\tp\tc\tk\tf\n\\.\n",
    );
    expect(result.errors).toEqual([]);
    expect(Object.keys(await types(result, "public.film"))).toEqual([
      "film_id",
      "fulltext",
      "key",
      "index",
      "period",
      "exclude",
      "spatial",
      "unique",
      "primary",
      "check",
      "constraint",
      "foreign",
    ]);
  });

  it("MySQL: key/index/fulltext/spatial columns beside KEY, FULLTEXT KEY, SPATIAL KEY, UNIQUE KEY, CONSTRAINT", async () => {
    const result = await convertBytes(
      "/*!40101 SET NAMES utf8mb4 */;\nCREATE TABLE `t` (\n  `id` int NOT NULL,\n  key int(11) DEFAULT NULL,\n  index varchar(10),\n",
      "  fulltext text,\n  spatial point NOT NULL,\n  period date,\n  unique enum('a','b'),\n  PRIMARY KEY (`id`),\n",
      "  KEY `idx_key` (key),\n  UNIQUE KEY `uk` (`index`),\n  FULLTEXT KEY `ft` (`fulltext`),\n  SPATIAL KEY `sp` (`spatial`),\n",
      "  KEY idx2 USING BTREE (`id`),\n  INDEX (`id`),\n  CONSTRAINT `fk` FOREIGN KEY (`id`) REFERENCES `o` (`id`),\n",
      "  CONSTRAINT CHECK (`id` > 0)\n) ENGINE=InnoDB;\n",
      "INSERT INTO `t` VALUES (1,2,'x','y',_binary '',NULL,'a');\n",
    );
    expect(result.errors).toEqual([]);
    expect(await types(result, "t")).toEqual({
      id: "INTEGER",
      key: "INTEGER",
      index: "VARCHAR",
      fulltext: "VARCHAR",
      spatial: "BLOB",
      period: "DATE",
      unique: "VARCHAR",
    });
  });
});

describe("SQL Server scripts", () => {
  it("keeps every row of SSMS batches without ';' or GO between statements, and maps bracketed types", async () => {
    const script = [
      "USE [shop]",
      "GO",
      "CREATE TABLE [dbo].[T](",
      "\t[id] [int] NOT NULL,",
      "\t[price] [decimal](10, 2) NULL,",
      "\t[f] [float] NULL,",
      "\t[pic] [varbinary](max) NULL,",
      "\t[at] [datetime] NULL,",
      "\t[name] [nvarchar](50) NULL,",
      " CONSTRAINT [PK_T] PRIMARY KEY CLUSTERED ",
      "(",
      "\t[id] ASC",
      ")WITH (PAD_INDEX = OFF) ON [PRIMARY]",
      ") ON [PRIMARY] TEXTIMAGE_ON [PRIMARY]",
      "GO",
      "SET IDENTITY_INSERT [dbo].[T] ON ",
      "INSERT [dbo].[T] ([id], [price], [f], [pic], [at], [name]) VALUES (1, CAST(12.50 AS Decimal(10, 2)), 1.5, 0x00FF, CAST(N'2024-01-02T03:04:05.000' AS DateTime), N'a')",
      "INSERT [dbo].[T] ([id], [price], [f], [pic], [at], [name]) VALUES (2, NULL, NULL, NULL, NULL, N'it''s')",
      "INSERT [dbo].[T] ([id], [price], [f], [pic], [at], [name]) VALUES (3, CAST(-0.01 AS Decimal(10, 2)), 0.1, 0x, NULL, N'c')",
      "SET IDENTITY_INSERT [dbo].[T] OFF",
      "GO",
      "INSERT [dbo].[T] ([id], [name]) VALUES (4, N'no GO before me')",
      "INSERT [dbo].[T] ([id], [name]) VALUES (5, N'nor me')",
      "",
    ].join("\r\n");
    const result = await convertBytes(script);
    expect(result.errors).toEqual([]);
    expect(await types(result, "dbo.T")).toEqual({
      id: "INTEGER",
      price: "DECIMAL(10,2)",
      f: "DOUBLE",
      pic: "BLOB",
      at: "TIMESTAMP",
      name: "VARCHAR",
    });
    expect(await conv.query(`SELECT id, price::VARCHAR AS p, name FROM ${src(result, "dbo.T")} ORDER BY id`)).toEqual([
      { id: 1, p: "12.50", name: "a" },
      { id: 2, p: null, name: "it's" },
      { id: 3, p: "-0.01", name: "c" },
      { id: 4, p: null, name: "no GO before me" },
      { id: 5, p: null, name: "nor me" },
    ]);
  });

  it("does not read the statements inside a procedure body as data", async () => {
    const script =
      "SET NOCOUNT ON\nGO\nCREATE PROCEDURE p AS\nBEGIN\nINSERT INTO [log] VALUES (1)\nEND\nGO\nINSERT [t] VALUES (2)\n";
    const result = await convertBytes(script);
    expect(result.tables.map((t) => t.table)).toEqual(["t"]);
  });
});

describe("SQLite affinity", () => {
  it("keeps every row SQLite stored: a column's type only when every value fits it, else the exact text", async () => {
    const result = await convertBytes(
      "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n",
      "CREATE TABLE t (id INTEGER PRIMARY KEY, n NUMERIC, ok BOOLEAN, r REAL, i INT, b BLOB, x, mixed NUMERIC, txt TEXT);\n",
      "INSERT INTO t VALUES(1,'abc',2,1.5,9223372036854775807,X'00FF',X'01',1,1.5);\n",
      // .dump writes reals with 20 digits: a VARCHAR holds the double's shortest text.
      "INSERT INTO t VALUES(2,12.5,0,1e999,-9223372036854775808,X'',X'02',0.10000000000000000555,'x');\n",
      "INSERT INTO t VALUES(3,NULL,NULL,NULL,NULL,NULL,NULL,3,NULL);\n",
      "INSERT INTO t VALUES(4,7,1,-2.0,0,X'41','text',9007199254740993,X'4142');\n",
      "COMMIT;\n",
    );
    expect(result.errors).toEqual([]);
    expect(await types(result, "t")).toEqual({
      id: "BIGINT",
      n: "VARCHAR",
      ok: "BIGINT",
      r: "DOUBLE",
      i: "BIGINT",
      b: "BLOB",
      x: "VARCHAR",
      mixed: "VARCHAR",
      txt: "VARCHAR",
    });
    expect(await conv.query(`SELECT n, ok, r, i, x, mixed, txt FROM ${src(result, "t")} ORDER BY id`)).toEqual([
      { n: "abc", ok: 2n, r: 1.5, i: 9223372036854775807n, x: "\\x01", mixed: "1", txt: "1.5" },
      { n: "12.5", ok: 0n, r: Number.POSITIVE_INFINITY, i: -9223372036854775808n, x: "\\x02", mixed: "0.1", txt: "x" },
      { n: null, ok: null, r: null, i: null, x: null, mixed: "3", txt: null },
      { n: "7", ok: 1n, r: -2, i: 0n, x: "text", mixed: "9007199254740993", txt: "\\x4142" },
    ]);
  });
});
