import { asText, float, JSON_TEXT, VARCHAR_TEXT } from "./canonical.js";
import { col, type DiffTable } from "./tables.js";

/** The differential tables of numbers, text and the types kept as text (see pg-tables.ts). */

const INT = asText(/^INTEGER$/);

/** Text that breaks naive dump readers: delimiters, escapes, COPY markers, every script, control chars. */
export const HOSTILE_TEXT = [
  "",
  " ",
  "\t",
  "a\tb",
  "line1\nline2",
  "cr\rlf\r\n",
  "back\\slash",
  "\\",
  "\\N",
  "\\.",
  "NULL",
  "it's",
  'say "hi"',
  "semi;colon",
  "-- not a comment",
  "/* nor this */",
  "$$ dollar $$",
  "{curly,braces}",
  "emoji \u{1F600}\u{1F44D}\u{1F3FD}",
  "CJK \u6771\u4eac \ud55c\uad6d\uc5b4",
  "RTL \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
  "combining e\u0301 \u200d zwj",
  "ctl \x01\x02\x1b\x7f",
  "caf\u00e9 \u00ff",
  // A leading byte-order mark is a character of the value (a TextDecoder would drop it).
  "\ufeffbom",
  "x".repeat(5000),
];

export function numbers(): DiffTable {
  const max38 = "9".repeat(28);
  return {
    name: "public.numbers",
    columns: [
      col("c_smallint", "smallint", asText(/^SMALLINT$/)),
      col("c_integer", "integer", INT),
      col("c_bigint", "bigint", asText(/^BIGINT$/)),
      col("c_serial", "serial", INT),
      col("c_bigserial", "bigserial", asText(/^BIGINT$/)),
      col("c_num20_5", "numeric(20,5)", asText(/^DECIMAL\(20,5\)$/)),
      col("c_num38_10", "numeric(38,10)", asText(/^DECIMAL\(38,10\)$/)),
      col("c_num38_0", "numeric(38,0)", asText(/^DECIMAL\(38,0\)$/)),
      col("c_dec5_2", "decimal(5,2)", asText(/^DECIMAL\(5,2\)$/)),
      col("c_num", "numeric", VARCHAR_TEXT),
      col("c_num50", "numeric(50,10)", VARCHAR_TEXT),
      col("c_real", "real", float(4)),
      col("c_double", "double precision", float(8)),
      col("c_bool", "boolean", asText(/^BOOLEAN$/)),
    ],
    rows: [
      ["0", "0", "0", "1", "1", "0", "0", "0", "0", "0", "0", "0", "0", "false"],
      [
        "32767",
        "2147483647",
        "9223372036854775807",
        "2147483647",
        "9223372036854775807",
        "123456789012345.12345",
        `${max38}.9999999999`,
        "9".repeat(38),
        "999.99",
        "NaN",
        `${"9".repeat(40)}.9999999999`,
        "3.4028235e38",
        "1.7976931348623157e308",
        "true",
      ],
      [
        "-32768",
        "-2147483648",
        "-9223372036854775808",
        "-2147483648",
        "-9223372036854775808",
        "-999999999999999.99999",
        `-${max38}.9999999999`,
        `-${"9".repeat(38)}`,
        "-999.99",
        "Infinity",
        `-${"1".repeat(40)}.0000000001`,
        "1.4e-45",
        "5e-324",
        "false",
      ],
      ["-1", "-1", "-1", "7", "7", "0.00001", "0.0000000001", "1", "0.01", "-Infinity", "0", "-0", "-0", null],
      ["1", "1", "1", "8", "8", "-0.00001", "-0.0000000001", "-1", "-0.01", "0.1", "1.5", "NaN", "NaN", "true"],
      ["2", "2", "2", "9", "9", null, null, null, null, `1e-100`, null, "Infinity", "Infinity", null],
      [
        "3",
        "3",
        "3",
        "10",
        "10",
        "1.1",
        "2.2",
        "3",
        "4.4",
        `${"1234567890".repeat(10)}.5`,
        "1",
        "-Infinity",
        "-Infinity",
        "false",
      ],
      ["4", "4", "4", "11", "11", "42", "42", "42", "42", "0.30000000000000000000001", "42", "0.1", "0.1", "true"],
      [null, null, null, "12", "12", null, null, null, null, null, null, null, null, null],
    ],
  };
}

export function texts(citext: boolean): DiffTable {
  const columns = [
    col("c_text", "text", VARCHAR_TEXT),
    col("c_varchar", "varchar(5000)", VARCHAR_TEXT),
    col("c_char", "char(8)", VARCHAR_TEXT),
    col("c_name", "name", VARCHAR_TEXT),
    col("c_json", "json", JSON_TEXT),
    col("c_jsonb", "jsonb", JSON_TEXT),
    col("c_textarr", "text[]", VARCHAR_TEXT),
  ];
  if (citext) columns.push(col("c_citext", "citext", VARCHAR_TEXT));
  const rows = HOSTILE_TEXT.map((s, i) => {
    const short = s.slice(0, 8);
    const row: (string | null)[] = [
      s,
      s,
      // char(n) pads with spaces and drops trailing ones on input: the padded text is what is stored.
      short,
      s.slice(0, 20),
      // json keeps its text, the escape \u0000 (which jsonb refuses) included.
      JSON.stringify({ k: s, n: i, a: [s, null, 1.5e300], nul: "\u0000" }),
      JSON.stringify({ [s]: s, "\u0000esc": "\\u0000 stays text" }).replace("\\u0000esc", "esc"),
      `{${JSON.stringify(s)},NULL,"NULL"}`,
    ];
    if (citext) row.push(s);
    return row;
  });
  rows.push(columns.map(() => null));
  return { name: "public.texts", columns, rows };
}

/**
 * Types with no lossless Parquet type: their exact text, as PostgreSQL's output function writes it. (A declared
 * `integer[][]` is dumped as `integer[]`: PostgreSQL keeps no dimension, so a 2-D value is refused, see refused().)
 */
export function others(): DiffTable {
  return {
    name: "public.others",
    columns: [
      col("c_mood", "public.mood", VARCHAR_TEXT),
      col("c_domain", "public.short_text", VARCHAR_TEXT),
      col("c_tsvector", "tsvector", VARCHAR_TEXT),
      col("c_inet", "inet", VARCHAR_TEXT),
      col("c_cidr", "cidr", VARCHAR_TEXT),
      col("c_macaddr", "macaddr", VARCHAR_TEXT),
      col("c_money", "money", VARCHAR_TEXT),
      col("c_point", "point", VARCHAR_TEXT),
      col("c_box", "box", VARCHAR_TEXT),
      col("c_bit", "bit(8)", VARCHAR_TEXT),
      col("c_varbit", "bit varying(16)", VARCHAR_TEXT),
      col("c_interval", "interval", VARCHAR_TEXT),
      col("c_timetz", "time with time zone", VARCHAR_TEXT),
      col("c_xml", "xml", VARCHAR_TEXT),
    ],
    rows: [
      [
        "sad",
        "tab\there",
        "'a' 'fat':1 'cat''s':2 'sat on' \\\\",
        "192.168.0.1/24",
        "10.0.0.0/8",
        "08:00:2b:01:02:03",
        "-92233720368547758.08",
        "(1.5,-2)",
        "(1,1),(0,0)",
        "10100101",
        "1",
        "-178000000 years -1 mons 3 days -04:05:06.000001",
        "23:59:59.999999-15:59",
        "<a href='x'>\u00e9&amp;</a>",
      ],
      [
        "happy",
        "",
        "",
        "::1",
        "::/0",
        "ff:ff:ff:ff:ff:ff",
        "0",
        "(0,0)",
        "(0,0),(0,0)",
        "00000000",
        "",
        "0",
        "00:00:00+15:59",
        "<a/>",
      ],
      Array(14).fill(null),
    ],
  };
}
