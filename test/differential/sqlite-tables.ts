import { rng } from "../fixtures/rng.js";
import { asText, BYTES, type Canon, float, floatText, VARCHAR_TEXT } from "./canonical.js";
import { HOSTILE_TEXT } from "./pg-tables-scalar.js";
import { col, type DiffTable, type DiffValue, raw } from "./tables.js";

/**
 * The SQLite side of the differential test. A declared type in SQLite is an affinity, not a constraint, so each
 * column states the Parquet type docs/types.md gives it after its data (`BIGINT` only when every value SQLite
 * holds there is an integer, …, else `VARCHAR`), and every cell is compared with the value SQLite holds, in that
 * type's canonical text.
 */

type Final = "BIGINT" | "DOUBLE" | "BLOB" | "VARCHAR";

/**
 * A REAL in a VARCHAR column (docs/types.md): the shortest digits that name the double, written as DuckDB and
 * Python write a double: fixed between 1e-4 and 1e16 (`.0` on an integral one), else with a signed two-digit
 * exponent (`1e+16`, `1.5e-07`); `-0.0`, `inf`, `-inf`.
 */
function realText(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [digits, e] = x.toExponential().split("e") as [string, string];
  const exp = Number(e);
  if (exp < -4 || exp >= 16) return `${digits}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  const fixed = x.toFixed(Math.max(0, (digits.split(".")[1] ?? "").length - exp));
  return fixed.includes(".") ? fixed : `${fixed}.0`;
}

/** The canonical text of what SQLite holds (bigint, number, string or Buffer) in a column of type `final`. */
function sqliteCanon(v: unknown, final: Final): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") {
    if (final === "DOUBLE") return BigInt(Number(v)) === v ? floatText(Number(v)) : `integer ${v} (no double holds it)`;
    return final === "BLOB" ? `integer ${v}` : String(v);
  }
  if (typeof v === "number") return final === "DOUBLE" ? floatText(v) : final === "VARCHAR" ? realText(v) : `real ${v}`;
  if (Buffer.isBuffer(v)) {
    const hex = v.toString("hex");
    return final === "BLOB" ? hex : final === "VARCHAR" ? `\\x${hex}` : `blob ${hex}`;
  }
  return final === "VARCHAR" ? String(v) : `text ${String(v)}`;
}

const DUCK_SIDE: Record<Final, Canon> = {
  BIGINT: asText(/^BIGINT$/),
  DOUBLE: float(8),
  BLOB: BYTES,
  VARCHAR: VARCHAR_TEXT,
};

/** A column expected to come out as `final`: better-sqlite3 gives the value as SQLite holds it. */
function sq(final: Final): Canon {
  return { ...DUCK_SIDE[final], sourceSql: (c) => c, sourceCanon: (v) => sqliteCanon(v, final) };
}

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** Every value fits its column's affinity type, SQLite's own conversions included (4.0 and '42' in NUMERIC). */
function fits(): DiffTable {
  return {
    name: "fits",
    columns: [
      col("c_int", "INT", sq("BIGINT")),
      col("c_bigint_u", "BIGINT UNSIGNED", sq("BIGINT")),
      // "POINT" holds "INT": INTEGER affinity, the first rule.
      col("c_floating_point", "FLOATING POINT", sq("BIGINT")),
      col("c_numeric", "NUMERIC", sq("BIGINT")),
      col("c_bool", "BOOLEAN", sq("BIGINT")),
      col("c_real", "REAL", sq("DOUBLE")),
      col("c_double", "DOUBLE PRECISION", sq("DOUBLE")),
      col("c_decimal", "DECIMAL(10,5)", sq("DOUBLE")),
      col("c_blob", "BLOB", sq("BLOB")),
      col("c_none", "", sq("BLOB")),
      col("c_text", "TEXT", sq("VARCHAR")),
      col("c_varchar", "VARCHAR(10)", sq("VARCHAR")),
      col("c_nchar", "NATIVE CHARACTER(70)", sq("VARCHAR")),
    ],
    rows: [
      [0n, 0n, 0n, 0n, 0n, 0, 0, 0, Buffer.alloc(0), Buffer.alloc(0), "", "", ""],
      [
        9223372036854775807n,
        9223372036854775807n,
        1n,
        raw("4.0"),
        raw("TRUE"),
        1.7976931348623157e308,
        5e-324,
        0.1,
        ALL_BYTES,
        ALL_BYTES,
        "text",
        // TEXT affinity: SQLite stores these numbers as their text.
        12,
        1.5,
      ],
      [
        raw("-9223372036854775808"),
        -1n,
        -1n,
        "42",
        raw("FALSE"),
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        -2.5,
        Buffer.from("it's"),
        Buffer.from([0xc3, 0x28, 0x00]),
        'it\'s "q" \r\n\t \\ ',
        "\r",
        "\u{1F600}",
      ],
      // REAL affinity stores 2 as 2.0; NUMERIC stores ' 7 ' as 7; the DECIMAL column mixes integers and reals.
      [
        1n,
        2n,
        3n,
        " 7 ",
        2n,
        2n,
        raw("0.0"),
        3n,
        Buffer.from("\\N"),
        Buffer.from("X''"),
        "NULL",
        "\\N",
        "CJK \u6771\u4eac",
      ],
      [
        -42n,
        9007199254740993n,
        0n,
        raw("1e3"),
        -1n,
        0.30000000000000004,
        2.2250738585072014e-308,
        1e-7,
        null,
        null,
        null,
        null,
        null,
      ],
      Array(13).fill(null),
    ],
  };
}

/** Values SQLite accepts that do not fit the declared type: each column is VARCHAR with every value's text. */
function misfits(): DiffTable {
  return {
    name: "misfits",
    columns: [
      col("c_numeric", "NUMERIC", sq("VARCHAR")),
      col("c_bool", "BOOLEAN", sq("VARCHAR")),
      col("c_integer", "INTEGER", sq("VARCHAR")),
      col("c_real", "REAL", sq("VARCHAR")),
      col("c_text", "TEXT", sq("VARCHAR")),
      col("c_blob", "BLOB", sq("VARCHAR")),
      // STRING and JSON are NUMERIC affinity (no rule matches them): '12' becomes 12 there.
      col("c_string", "STRING", sq("VARCHAR")),
      col("c_json", "JSON", sq("VARCHAR")),
      col("c_date", "DATE", sq("VARCHAR")),
      // An integer past 2^53 beside a real: no DOUBLE holds both, no BIGINT the real.
      col("c_wide", "NUMERIC", sq("VARCHAR")),
    ],
    rows: [
      ["abc", 2n, 1.5, "abc", Buffer.from([0x00, 0xff]), "text", "hello", '{"a": 1}', "2020-01-01", 9007199254740993n],
      [1.5, "yes", "abc", 1.5, "x", Buffer.from([0x01]), "12", "1", 20200101n, 0.5],
      [
        7n,
        0.5,
        raw("99999999999999999999"),
        Buffer.from([0x00]),
        1.5,
        3n,
        1e300,
        "[1, 2]",
        2459000.5,
        -9223372036854775807n,
      ],
      ["", -1n, Buffer.from([0xff]), "", "", "", "", "", "", null],
      ["it's", "\r\n", 0.1, Number.NEGATIVE_INFINITY, "emoji \u{1F600}", raw("1.0"), "'", "null", "9999-12-31", 1e-300],
      Array(10).fill(null),
    ],
  };
}

/** No declared type at all: BLOB affinity, values kept as written. */
function typeless(): DiffTable {
  return {
    name: "typeless",
    columns: [col("a", "", sq("VARCHAR")), col("b", "", sq("VARCHAR")), col("c", "", sq("VARCHAR"))],
    rows: [
      [1n, "one", 1n],
      [raw("1.0"), "two", -7n],
      ["1", "\u05e9\u05dc\u05d5\u05dd", 9223372036854775807n],
      [Buffer.from("1"), "", 0n],
      [raw("1e999"), null, null],
      [null, null, null],
    ],
  };
}

/**
 * A quoted table name holding quotes and a space, columns quoted three ways, keywords as names, a CHECK and a
 * DEFAULT holding `),`, table constraints, and generated columns: `.dump` writes no values for those (its INSERTs
 * list only the stored columns), so they are not in the Parquet and are not compared.
 */
function oddNames(): DiffTable {
  return {
    name: '"odd ""table"" name"',
    sql: '"odd ""table"" name"',
    columns: [
      col('"a b"', "TEXT", sq("VARCHAR")),
      col("[c]", "INT", sq("BIGINT")),
      col("`d`", "REAL", sq("DOUBLE")),
      col("key", "INT", sq("BIGINT")),
      col('"index"', "TEXT DEFAULT 'x,y)' CHECK (length(\"index\") < 100)", sq("VARCHAR")),
      col("fulltext", "TEXT COLLATE NOCASE", sq("VARCHAR")),
      { ...col("twice", "INT GENERATED ALWAYS AS (key * 2) VIRTUAL", sq("BIGINT")), generated: true },
      { ...col("shout", "TEXT AS (\"a b\" || '!') STORED", sq("VARCHAR")), generated: true },
    ],
    constraints: ["UNIQUE (key, [c])", "CHECK (key > -100)"],
    rows: [
      ["x", 2n, 3.0, 4n, "i", "F"],
      [null, raw("-9223372036854775808"), raw("-0.0"), raw("TRUE"), null, null],
      ["y", null, null, null, "x,y)", ""],
    ],
  };
}

/** A STRICT table (ANY keeps every value as written) and a WITHOUT ROWID one. */
function strictTables(): DiffTable[] {
  return [
    {
      name: "strict_t",
      columns: [col("a", "INT", sq("BIGINT")), col("c", "ANY", sq("VARCHAR")), col("d", "REAL", sq("DOUBLE"))],
      options: " STRICT",
      rows: [
        [5n, "123", 5n],
        [null, 1.5, null],
        [-1n, Buffer.from("b"), 0.25],
      ],
    },
    {
      name: "no_rowid",
      columns: [col("k", "TEXT UNIQUE", sq("VARCHAR")), col("v", "", sq("BLOB"))],
      options: " WITHOUT ROWID",
      rows: [
        ["a", Buffer.alloc(0)],
        ["b", Buffer.from("it's")],
      ],
    },
  ];
}

/** Seeded random rows of every storage class, so batches and values no one thought of are compared too. */
function bulk(): DiffTable {
  const r = rng(0x5eed18);
  const pieces = [...HOSTILE_TEXT.filter((s) => s.length < 100), "\u00e9", "\u{10FFFF}", "'"];
  const text = () => Array.from({ length: r.int(0, 5) }, () => r.pick(pieces)).join("");
  const double = () => {
    for (;;) {
      const x = r.bytes(8).readDoubleBE(0);
      if (!Number.isNaN(x)) return x;
    }
  };
  const big = () => r.bytes(8).readBigInt64BE(0);
  const any = (): DiffValue => [big, double, text, () => r.bytes(r.int(0, 16)), () => null][r.int(0, 4)]?.() ?? null;
  const rows: DiffValue[][] = [];
  for (let i = 0; i < 3000; i++) {
    const maybe = <T>(v: T): T | null => (r.next() < 0.1 ? null : v);
    rows.push([maybe(big()), maybe(double()), maybe(text()), maybe(r.bytes(r.int(0, 48))), any(), any()]);
  }
  return {
    name: "bulk",
    columns: [
      col("c_int", "INTEGER", sq("BIGINT")),
      col("c_real", "REAL", sq("DOUBLE")),
      col("c_text", "TEXT", sq("VARCHAR")),
      col("c_blob", "BLOB", sq("BLOB")),
      col("c_any", "", sq("VARCHAR")),
      col("c_num", "NUMERIC", sq("VARCHAR")),
    ],
    rows,
  };
}

/** AUTOINCREMENT and an analysed index: `.dump` then fills SQLite's own sqlite_sequence and sqlite_stat1. */
function autoincrement(): DiffTable {
  return {
    name: "autoinc",
    idType: "INTEGER PRIMARY KEY AUTOINCREMENT",
    columns: [col("v", "TEXT", sq("VARCHAR"))],
    rows: [["x"], ["y"], ["x"]],
  };
}

export function sqliteTables(): DiffTable[] {
  return [fits(), misfits(), typeless(), oddNames(), ...strictTables(), autoincrement(), bulk()];
}

/** Statements after the tables: the index ANALYZE describes in sqlite_stat1. */
export const SQLITE_AFTER = ["CREATE INDEX autoinc_v ON autoinc (v);", "ANALYZE autoinc;"];

/** SQLite's own tables as the dump fills them (typeless, so VARCHAR), matched by their unique column. */
export function internalTables(): DiffTable[] {
  return [
    { name: "sqlite_sequence", key: "name", columns: [col("seq", "", sq("VARCHAR"))], rows: [] },
    {
      name: "sqlite_stat1",
      key: "idx",
      columns: [col("tbl", "", sq("VARCHAR")), col("stat", "", sq("VARCHAR"))],
      rows: [],
    },
  ];
}
