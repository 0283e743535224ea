import { MY_BYTES, MY_JSON, MY_TEXT } from "./mysql-canonical.js";
import { HOSTILE_TEXT } from "./pg-tables-scalar.js";
import { col, type DiffTable, type DiffValue, raw } from "./tables.js";

/** The differential tables of text, bytes and geometry (see mysql-tables.ts). */

/** MySQL text also holds NUL (mysqldump writes `\0`), and every escape mysqldump uses: \0 \' \" \n \r \Z \\. */
const MYSQL_TEXT = [...HOSTILE_TEXT, "nul\0inside", "\0", "ctrl-z \x1a", "all \0'\"\n\r\x1a\\ escapes", "\u{10FFFF}"];

/** Text MySQL's latin1 (cp1252, with 0x81 0x8D 0x8F 0x90 0x9D as C1 controls) holds. */
const LATIN1_TEXT = [
  "caf\u00e9 \u00ff",
  // Its latin1 bytes (c3 a9) are also UTF-8 for é: a dump in the column's own charset must not read them so.
  "\u00c3\u00a9",
  "\u20ac \u201a \u0192 \u201e \u2026 \u2020 \u2021 \u02c6 \u2030 \u0160 \u2039 \u0152 \u017d",
  "\u0081\u008d\u008f\u0090\u009d",
  "\u00c0\u00c1\u00c2\u00c3\u00c4\u00c5\u00c6\u00c7 \u00f1 \u00df \u00fe \u00a0nbsp",
  "tab\there",
  "cr\rlf\r\n",
  "back\\slash \\N",
  'it\'s "quoted"',
  "",
  "nul\0",
];

const ENUM = ["", "a", "it''s", "x,y", "emoji \u{1F600}", "back\\\\slash", "NULL"];
const ENUM_VALUES = ["", "a", "it's", "x,y", "emoji \u{1F600}", "back\\slash", "NULL", null];
const SET_VALUES = ["", "a", "a,b", "c d,\u00e9", "a,b,c d,\u00e9,\u{1F600}", null];
const JSON_VALUES = ["null", '"str"', "[]", '{"dup": 1, "dup": 2}', ' { "spaced" : true } ', "1e400", "-0"];

export function texts(): DiffTable {
  const rows: DiffValue[][] = MYSQL_TEXT.map((s, i) => [
    s,
    // CHAR(10) drops trailing spaces when read, in the server as in the dump.
    s.slice(0, 10),
    s.slice(0, 60),
    s,
    s,
    s,
    LATIN1_TEXT[i % LATIN1_TEXT.length] as string,
    s.replace(/[^\x00-\x7f]/g, "?").slice(0, 100),
    ENUM_VALUES[i % ENUM_VALUES.length] as string | null,
    SET_VALUES[i % SET_VALUES.length] as string | null,
    i < JSON_VALUES.length ? (JSON_VALUES[i] as string) : JSON.stringify({ k: s, n: i, a: [s, null, 1.5e300] }),
  ]);
  rows.push(Array(11).fill(null));
  return {
    name: "texts",
    columns: [
      col("c_varchar", "VARCHAR(6000)", MY_TEXT),
      col("c_char", "CHAR(10)", MY_TEXT),
      col("c_tinytext", "TINYTEXT", MY_TEXT),
      col("c_text", "TEXT", MY_TEXT),
      col("c_mediumtext", "MEDIUMTEXT", MY_TEXT),
      col("c_longtext", "LONGTEXT", MY_TEXT),
      col("c_latin1", "VARCHAR(100) CHARACTER SET latin1", MY_TEXT),
      col("c_ascii", "VARCHAR(100) CHARACTER SET ascii", MY_TEXT),
      col("c_enum", `ENUM(${ENUM.map((e) => `'${e}'`).join(", ")})`, MY_TEXT),
      col("c_set", "SET('a', 'b', 'c d', '\u00e9', '\u{1F600}')", MY_TEXT),
      col("c_json", "JSON", MY_JSON),
    ],
    rows,
  };
}

export function binaries(): DiffTable {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const values = [
    all,
    Buffer.alloc(0),
    Buffer.from("\\"),
    Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]),
    Buffer.from("\\x41\\N\n\t\r"),
    // Every byte mysqldump escapes, and bytes that are (c3 a9) and are not (c3 28) UTF-8.
    Buffer.from([0x00, 0x27, 0x22, 0x0a, 0x0d, 0x1a, 0x5c, 0x08, 0x09]),
    Buffer.from([0xc3, 0xa9, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80]),
    Buffer.from("'); DROP TABLE x; --"),
    Buffer.alloc(300, 0xff),
  ];
  const rows: DiffValue[][] = values.map((b, i) => [
    // BINARY(8) pads with 0x00: the padded bytes are what is stored and dumped.
    b.subarray(i, i + 8),
    b.subarray(0, 300),
    b.subarray(0, 255),
    b,
    b,
    Buffer.concat([b, all, b]),
  ]);
  rows.push(Array(6).fill(null));
  return {
    name: "binaries",
    columns: [
      col("c_binary", "BINARY(8)", MY_BYTES),
      col("c_varbinary", "VARBINARY(300)", MY_BYTES),
      col("c_tinyblob", "TINYBLOB", MY_BYTES),
      col("c_blob", "BLOB", MY_BYTES),
      col("c_mediumblob", "MEDIUMBLOB", MY_BYTES),
      col("c_longblob", "LONGBLOB", MY_BYTES),
    ],
    rows,
  };
}

/**
 * A latin1 table (its text columns take the table's charset) with columns in MySQL's other charsets, the wide ones
 * included: in a `SET NAMES binary` dump each column's bytes are in its own charset.
 */
export function charsets(): DiffTable {
  const values = ["caf\u00e9", "\u00c3\u00a9", "\u20ac\u0081", "", 'it\'s \\ "q"\t\r\n', "A"];
  const wide = ["caf\u00e9", "\u00c3\u00a9 \u6771\u4eac", "\u{1F600}", "", "\ufeffbom", "A"];
  const rows: DiffValue[][] = values.map((v, i) => {
    const w = wide[i] as string;
    // ucs2 holds the BMP only.
    return [
      v,
      v,
      w.replace(/[\u{10000}-\u{10FFFF}]/gu, "?"),
      w,
      w,
      w,
      w,
      ["\u00e9", "\u00c3\u00a9", null][i % 3] ?? null,
    ];
  });
  rows.push(Array(8).fill(null));
  return {
    name: "charsets",
    options: "DEFAULT CHARSET=latin1",
    columns: [
      col("c_default", "VARCHAR(50)", MY_TEXT),
      col("c_text", "TEXT", MY_TEXT),
      col("c_ucs2", "VARCHAR(20) CHARACTER SET ucs2", MY_TEXT),
      col("c_utf16", "VARCHAR(20) CHARACTER SET utf16", MY_TEXT),
      col("c_utf16le", "VARCHAR(20) CHARACTER SET utf16le", MY_TEXT),
      col("c_utf32", "VARCHAR(20) CHARACTER SET utf32", MY_TEXT),
      col("c_utf8", "VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", MY_TEXT),
      col("c_enum", "ENUM('\u00e9', '\u00c3\u00a9')", MY_TEXT),
    ],
    rows,
  };
}

/** A (subnormal) double whose little-endian bytes are 27 5c 0a 22 00 1a 0d 00. */
const ESCAPES_DOUBLE = String(Buffer.from([0x27, 0x5c, 0x0a, 0x22, 0x00, 0x1a, 0x0d, 0x00]).readDoubleLE(0));

/** GEOMETRY and its subtypes, with SRIDs: MySQL's internal form (4-byte SRID + WKB) is what mysqldump writes. */
export function geometry(): DiffTable {
  const g = (wkt: string, srid: number) => raw(`ST_GeomFromText('${wkt}', ${srid})`);
  return {
    name: "geometry",
    columns: [
      col("c_geom", "GEOMETRY NOT NULL", MY_BYTES),
      col("c_point", "POINT", MY_BYTES),
      col("c_line", "LINESTRING", MY_BYTES),
      col("c_poly", "POLYGON", MY_BYTES),
      col("c_multi", "MULTIPOLYGON", MY_BYTES),
      col("c_coll", "GEOMETRYCOLLECTION", MY_BYTES),
    ],
    constraints: ["SPATIAL KEY `sp` (`c_geom`)"],
    rows: [
      [
        g("POINT(1 2)", 0),
        g("POINT(-0 1e308)", 4326),
        g("LINESTRING(0 0, 1 1, 2 0.5)", 3857),
        g("POLYGON((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 3 2, 3 3, 2 2))", 4326),
        g("MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))", 0),
        g("GEOMETRYCOLLECTION(POINT(1 1), LINESTRING(0 0, 1 1))", 4326),
      ],
      [g("POLYGON((0 0, 1 0, 1 1, 0 0))", 4326), g("POINT(39.27 -6.82)", 4326), null, null, null, null],
      // An SRID and coordinates whose bytes are mysqldump's escapes: 0x27 ('), 0x5c (\\), 0x00, 0x0a, 0x0d, 0x1a.
      [g(`POINT(${ESCAPES_DOUBLE} -${ESCAPES_DOUBLE})`, 0x5c27), null, null, null, null, null],
    ],
  };
}
