import { describe, expect, it } from "vitest";
import { charsetFor } from "../../src/processors/sql-dump/charset.js";
import { Invalid } from "../../src/processors/sql-dump/codec.js";
import { splitPgArray } from "../../src/processors/sql-dump/codecs-list.js";
import { byteaBytes } from "../../src/processors/sql-dump/codecs-scalar.js";
import { DATE_CODEC, daysFromCivil, TIMESTAMPTZ_CODEC } from "../../src/processors/sql-dump/codecs-time.js";
import { parseCreateTable } from "../../src/processors/sql-dump/create-table.js";
import { scaledDecimal } from "../../src/processors/sql-dump/decimal.js";
import { affinityOf, realText } from "../../src/processors/sql-dump/sqlite-affinity.js";
import { codecFor } from "../../src/processors/sql-dump/type-map.js";
import type { Dialect } from "../../src/processors/sql-dump/types.js";

/** The pure rules under the SQL dump writer: declared type → column type, exact decimals, dates, arrays, bytes. */

const UTF8 = charsetFor("utf8", false);
const latin1 = (s: string) => Buffer.from(s, "utf8").toString("latin1");

describe("declared type → DuckDB type (docs/types.md)", () => {
  const cases: [Dialect, string, string][] = [
    ["postgres", "smallint", "SMALLINT"],
    ["postgres", "integer", "INTEGER"],
    ["postgres", "bigserial", "BIGINT"],
    ["postgres", "numeric(20,5)", "DECIMAL(20,5)"],
    ["postgres", "numeric(38,0)", "DECIMAL(38,0)"],
    ["postgres", "numeric(39,2)", "VARCHAR"],
    ["postgres", "numeric", "VARCHAR"],
    ["postgres", "numeric(3,5)", "VARCHAR"],
    ["postgres", "real", "FLOAT"],
    ["postgres", "float", "DOUBLE"],
    ["postgres", "float(24)", "FLOAT"],
    ["postgres", "double precision", "DOUBLE"],
    ["postgres", "character varying(80)", "VARCHAR"],
    ["postgres", "bytea", "BLOB"],
    ["postgres", "timestamp(6) without time zone", "TIMESTAMP"],
    ["postgres", "timestamp with time zone", "TIMESTAMPTZ"],
    ["postgres", "time(3) without time zone", "TIME"],
    ["postgres", "time with time zone", "VARCHAR"],
    ["postgres", "interval", "VARCHAR"],
    ["postgres", "uuid", "UUID"],
    ["postgres", "jsonb", "JSON"],
    ["postgres", "integer[]", "INTEGER[]"],
    ["postgres", "numeric(10,2)[]", "DECIMAL(10,2)[]"],
    ["postgres", "timestamp with time zone[]", "TIMESTAMPTZ[]"],
    ["postgres", "int ARRAY", "INTEGER[]"],
    ["postgres", "integer[][]", "VARCHAR"],
    ["postgres", "text[]", "VARCHAR"],
    ["postgres", "json[]", "VARCHAR"],
    ["postgres", "public.mpaa_rating", "VARCHAR"],
    ["postgres", "bit(8)", "VARCHAR"],
    ["postgres", "money", "VARCHAR"],
    ["mysql", "tinyint(1)", "TINYINT"],
    ["mysql", "boolean", "TINYINT"],
    ["mysql", "tinyint(3) unsigned", "UTINYINT"],
    ["mysql", "smallint(5) unsigned zerofill", "USMALLINT"],
    ["mysql", "mediumint(8) unsigned", "UINTEGER"],
    ["mysql", "int(10) unsigned", "UINTEGER"],
    ["mysql", "bigint(20) unsigned", "UBIGINT"],
    ["mysql", "serial", "UBIGINT"],
    ["mysql", "decimal", "DECIMAL(10,0)"],
    ["mysql", "decimal(65,30)", "VARCHAR"],
    ["mysql", "float", "FLOAT"],
    ["mysql", "float(30)", "DOUBLE"],
    ["mysql", "real", "DOUBLE"],
    ["mysql", "bit(1)", "UBIGINT"],
    ["mysql", "blob", "BLOB"],
    ["mysql", "varbinary(16)", "BLOB"],
    ["mysql", "geometry", "BLOB"],
    ["mysql", "point", "BLOB"],
    ["mysql", "datetime(6)", "TIMESTAMP"],
    // Without a declared time zone a MySQL TIMESTAMP's text is a wall clock in an unknown zone.
    ["mysql", "timestamp", "TIMESTAMP"],
    ["mysql", "time", "VARCHAR"],
    ["mysql", "year(4)", "SMALLINT"],
    ["mysql", "enum('a','b')", "VARCHAR"],
    ["mysql", "set('a','b')", "VARCHAR"],
    ["mysql", "json", "JSON"],
    ["sqlserver", "[int]", "INTEGER"],
    ["sqlserver", "[tinyint]", "UTINYINT"],
    ["sqlserver", "[float]", "DOUBLE"],
    ["sqlserver", "[varbinary](max)", "BLOB"],
    ["sqlserver", "[decimal](10, 2)", "DECIMAL(10,2)"],
    ["sqlserver", "[nvarchar](max)", "VARCHAR"],
    ["sqlserver", "[bit]", "BOOLEAN"],
    ["sqlserver", "[datetime]", "TIMESTAMP"],
    ["sqlserver", "[datetime2](7)", "VARCHAR"],
    ["sqlserver", "datetime2(3)", "TIMESTAMP"],
    ["sqlserver", "[uniqueidentifier]", "UUID"],
    ["sqlserver", "money", "DECIMAL(19,4)"],
    ["sqlserver", "timestamp", "BLOB"],
    ["generic", "INTEGER", "INTEGER"],
    ["generic", "DECIMAL(5,2)", "DECIMAL(5,2)"],
  ];
  it.each(cases)("%s %s → %s", (dialect, declared, sql) => {
    expect(codecFor(declared, dialect).sql).toBe(sql);
  });

  it("makes a MySQL TIMESTAMP an instant at the offset the dump declares, else a wall clock", () => {
    const utc = codecFor("timestamp(6)", "mysql", "+00:00");
    expect(utc.sql).toBe("TIMESTAMPTZ");
    expect(utc.convert("1970-01-01 00:00:01.5", UTF8)).toBe(1_500_000n);
    expect(codecFor("timestamp", "mysql", "UTC").convert("1970-01-01 00:00:01", UTF8)).toBe(1_000_000n);
    const india = codecFor("timestamp", "mysql", "+05:30");
    expect(india.sql).toBe("TIMESTAMPTZ");
    expect(india.convert("1970-01-01 05:30:01", UTF8)).toBe(1_000_000n);
    expect(codecFor("timestamp", "mysql", "-01:00").convert("1970-01-01 00:00:00", UTF8)).toBe(3_600_000_000n);
    // A named zone's offset changes with the date: sluice does not guess it.
    expect(codecFor("timestamp", "mysql", "Europe/Paris").sql).toBe("TIMESTAMP");
    expect(codecFor("timestamp", "mysql", "SYSTEM").sql).toBe("TIMESTAMP");
    expect(codecFor("datetime", "mysql", "+05:30").sql).toBe("TIMESTAMP");
  });

  it("follows SQLite's affinity rules in their order", () => {
    expect(
      [
        "INTEGER",
        "BIGINT",
        "VARCHAR(10)",
        "CLOB",
        "BLOB",
        null,
        "",
        "REAL",
        "FLOAT",
        "DOUBLE",
        "NUMERIC",
        "BOOLEAN",
        "DATE",
        "POINT INT",
        "CHARINT",
      ].map(affinityOf),
    ).toEqual([
      "INTEGER",
      "INTEGER",
      "TEXT",
      "TEXT",
      "BLOB",
      "BLOB",
      "BLOB",
      "REAL",
      "REAL",
      "REAL",
      "NUMERIC",
      "NUMERIC",
      "NUMERIC",
      "INTEGER",
      "INTEGER",
    ]);
  });
});

describe("exact decimals", () => {
  it("scales every digit, refuses what would be rounded", () => {
    expect(scaledDecimal("123456789012345.12345", 20, 5)).toBe(12345678901234512345n);
    expect(scaledDecimal("-0.01", 5, 2)).toBe(-1n);
    expect(scaledDecimal("1e2", 5, 2)).toBe(10000n);
    expect(scaledDecimal("1.500", 2, 1)).toBe(15n);
    expect(scaledDecimal("000.000", 1, 0)).toBe(0n);
    expect(scaledDecimal("9".repeat(38), 38, 0)).toBe(10n ** 38n - 1n);
    expect(scaledDecimal("1.255", 5, 2)).toBe("has more than 2 decimal places");
    expect(scaledDecimal("1234.5", 5, 2)).toBe("has more than 5 digits");
    expect(scaledDecimal("NaN", 5, 2)).toBeNull();
    expect(scaledDecimal("1e400", 38, 0)).toBe("has more than 38 digits");
  });
});

describe("dates and instants", () => {
  it("counts days in the proleptic Gregorian calendar, BC included", () => {
    expect(daysFromCivil(1970, 1, 1)).toBe(0);
    expect(daysFromCivil(2000, 2, 29)).toBe(11016);
    expect(daysFromCivil(1900, 2, 29)).toBeNull();
    expect(daysFromCivil(1, 1, 1)).toBe(-719162);
    // 1 BC is year 0 and a leap year.
    expect(daysFromCivil(0, 2, 29)).toBe(-719469);
  });

  it("reads pg's BC dates, infinities and offsets in seconds; refuses zero dates", () => {
    expect(DATE_CODEC.convert("0001-12-31 BC", UTF8)).toBe(daysFromCivil(0, 12, 31));
    expect(DATE_CODEC.convert("infinity", UTF8)).toBe(2 ** 31 - 1);
    expect(DATE_CODEC.convert("0000-00-00", UTF8)).toBeInstanceOf(Invalid);
    expect(DATE_CODEC.convert("2023-02-29", UTF8)).toBeInstanceOf(Invalid);
    expect(TIMESTAMPTZ_CODEC.convert("1900-01-01 00:19:32+00:19:32", UTF8)).toBe(-2208988800000000n);
    expect(TIMESTAMPTZ_CODEC.convert("2000-01-01 05:30:00+05:30", UTF8)).toBe(946684800000000n);
    expect(TIMESTAMPTZ_CODEC.convert("2000-01-01 00:00:00.1234560", UTF8)).toBe(946684800123456n);
    expect(TIMESTAMPTZ_CODEC.convert("2000-01-01 00:00:00.1234567", UTF8)).toBeInstanceOf(Invalid);
    // Hand-written scripts (Chinook): year first with slashes, a date alone being its midnight.
    expect(TIMESTAMPTZ_CODEC.convert("1962/2/18", UTF8)).toBe(
      BigInt(daysFromCivil(1962, 2, 18) as number) * 86400000000n,
    );
    expect(DATE_CODEC.convert("1962/2/18", UTF8)).toBe(daysFromCivil(1962, 2, 18));
    expect(DATE_CODEC.convert("1962/2-18", UTF8)).toBeInstanceOf(Invalid);
    expect(DATE_CODEC.convert("18/2/1962", UTF8)).toBeInstanceOf(Invalid);
  });
});

describe("arrays, bytes, charsets", () => {
  it("splits one-dimensional PostgreSQL array text and refuses the rest", () => {
    expect(splitPgArray('{1, NULL ,"NULL","a \\"b\\"",c d }')).toEqual(["1", null, "NULL", 'a "b"', "c d"]);
    expect(splitPgArray("{}")).toEqual([]);
    expect(splitPgArray("{{1},{2}}")).toBeInstanceOf(Invalid);
    expect(splitPgArray("[0:1]={1,2}")).toBeInstanceOf(Invalid);
    expect(splitPgArray("{1,}")).toBeInstanceOf(Invalid);
  });

  it("reads bytea hex and escape formats", () => {
    expect(byteaBytes("\\x00ff 5c")).toEqual(new Uint8Array([0, 255, 0x5c]));
    expect(byteaBytes("a\\000\\\\\\377")).toEqual(new Uint8Array([0x61, 0, 0x5c, 0xff]));
    expect(byteaBytes("\\x0")).toBeNull();
    expect(byteaBytes("\\9")).toBeNull();
  });

  it("decodes text strictly in the declared charset", () => {
    expect(UTF8.decode(latin1("caf\u00e9 \u{1F600}"))).toBe("caf\u00e9 \u{1F600}");
    expect(UTF8.decode("\xff")).toBeNull();
    expect(charsetFor("utf8mb4", true).decode("\xc3")).toBeNull();
    expect(charsetFor("latin1", true).decode("\x80\xe9")).toBe("\u20ac\u00e9");
    expect(charsetFor("LATIN1", false).decode("\x80\xe9")).toBe("\u0080\u00e9");
    expect(charsetFor("WIN1251", false).decode("\xc0")).toBe("\u0410");
    expect(charsetFor("EUC_JP", false).decode("\xa4\xa2")).toBe("\u3042");
    expect(charsetFor("klingon", false).decode("ok")).toBe("ok");
    expect(charsetFor("klingon", false).decode("\xe9")).toBeNull();
  });
});

describe("MySQL column charsets (mysqldump --default-character-set=binary)", () => {
  it("reads each text column's charset: its own CHARACTER SET or COLLATE, else the table's DEFAULT CHARSET", () => {
    const created = parseCreateTable(
      "CREATE TABLE `t` (`id` int(11) NOT NULL, `a` varchar(10) CHARACTER SET latin1 COLLATE latin1_swedish_ci " +
        "DEFAULT 'x,y)', `b` text COLLATE utf8mb4_bin, `c` enum('p','q'), `d` date, `e` char(2) CHARSET ascii, " +
        "`f` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin CHECK (json_valid(`f`)), `g` int COMMENT 'CHARSET x', " +
        "KEY `k` (`a`)) ENGINE=InnoDB DEFAULT CHARSET=utf16 COLLATE=utf16_general_ci",
      1,
      { mysql: true, backslash: false },
    );
    expect(created).toEqual({
      ok: true,
      table: "t",
      columns: [
        { name: "id", type: "int(11)" },
        { name: "a", type: "varchar(10)", charset: "latin1" },
        { name: "b", type: "text", charset: "utf8mb4" },
        { name: "c", type: "enum('p','q')", charset: "utf16" },
        { name: "d", type: "date" },
        { name: "e", type: "char(2)", charset: "ascii" },
        { name: "f", type: "longtext", charset: "utf8mb4" },
        { name: "g", type: "int" },
      ],
    });
  });

  it("knows no column charsets outside MySQL (PostgreSQL's COLLATE names a collation, not a charset)", () => {
    const created = parseCreateTable('CREATE TABLE public.t (a text COLLATE pg_catalog."C", b varchar(3))', 1, {
      mysql: false,
      backslash: false,
    });
    expect(created).toEqual({
      ok: true,
      table: "public.t",
      columns: [
        { name: "a", type: "text" },
        { name: "b", type: "varchar(3)" },
      ],
    });
  });

  it("decodes MySQL's wide charsets, which only SET NAMES binary dumps hold, never as ASCII", () => {
    expect(charsetFor("binary", true).perColumn).toBe(true);
    expect(charsetFor("binary", false).perColumn).toBeFalsy();
    expect(charsetFor("utf8mb4", true).perColumn).toBeFalsy();
    expect(charsetFor("ucs2", true).decode("\x00A\x00\xe9")).toBe("A\u00e9");
    expect(charsetFor("utf16", true).decode("\xd8\x3d\xde\x00")).toBe("\u{1F600}");
    expect(charsetFor("utf16le", true).decode("A\x00\xfe\xff")).toBe("A\uFFFE");
    expect(charsetFor("utf32", true).decode("\x00\x01\xf6\x00\x00\x00\x00A")).toBe("\u{1F600}A");
    expect(charsetFor("utf32", true).decode("\x00\x00\xd8\x00")).toBeNull();
    expect(charsetFor("utf16", true).decode("\x00")).toBeNull();
    // A leading U+FEFF is a character of the value.
    expect(charsetFor("utf16", true).decode("\xfe\xff\x00A")).toBe("\uFEFFA");
    // A name that is also an Object property is just an unknown charset.
    expect(charsetFor("constructor", true).decode("ok")).toBe("ok");
  });
});

describe("generated columns", () => {
  const columns = (sql: string, mysql = false) => {
    const created = parseCreateTable(sql, 1, { mysql, backslash: false });
    return created?.ok ? created.columns : created;
  };

  it("marks [GENERATED ALWAYS] AS (expr) columns, in every dialect's form, and not identity columns", () => {
    expect(
      columns(
        "CREATE TABLE public.g (id integer, b integer GENERATED ALWAYS AS ((a * 2)) STORED, " +
          "i integer GENERATED ALWAYS AS IDENTITY, j bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 5), " +
          "d integer DEFAULT 1 CHECK (d > 0))",
      ),
    ).toEqual([
      { name: "id", type: "integer" },
      { name: "b", type: "integer", generated: true },
      { name: "i", type: "integer" },
      { name: "j", type: "bigint" },
      { name: "d", type: "integer" },
    ]);
    expect(
      columns(
        "CREATE TABLE `t` (`a` int(11), `v` int(11) GENERATED ALWAYS AS (`a` * 2) VIRTUAL, `s` text AS (concat(`a`,'x')) PERSISTENT)",
        true,
      ),
    ).toEqual([
      { name: "a", type: "int(11)" },
      { name: "v", type: "int(11)", generated: true },
      { name: "s", type: "text", generated: true },
    ]);
    expect(columns("CREATE TABLE t (a INT, g INT AS (a + 1), [Total] AS ([Qty]*[Price]), c TEXT)")).toEqual([
      { name: "a", type: "INT" },
      { name: "g", type: "INT", generated: true },
      { name: "Total", type: null, generated: true },
      { name: "c", type: "TEXT" },
    ]);
  });
});

describe("SQLite reals in VARCHAR columns", () => {
  it("are the double's shortest text, as DuckDB writes it, not .dump's 20 digits", () => {
    const cases: [string, string][] = [
      ["0.10000000000000000555", "0.1"],
      ["1.0", "1.0"],
      ["12345678901234567167.0", "1.2345678901234567e+19"],
      ["1.0000000000000000047e+300", "1e+300"],
      ["2.5000000000000001196e-05", "2.5e-05"],
      ["0.00012300000000000000", "0.000123"],
      ["1234567890123456.7", "1234567890123456.8"],
      ["9007199254740992.0", "9007199254740992.0"],
      ["1e16", "1e+16"],
      ["4.9406564584124654e-324", "5e-324"],
      ["1e999", "inf"],
      ["-1e999", "-inf"],
      ["-0.0", "-0.0"],
      ["0.0", "0.0"],
    ];
    expect(cases.map(([dumped]) => realText(Number(dumped)))).toEqual(cases.map(([, text]) => text));
  });
});
