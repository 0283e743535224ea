import { closeSync, openSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { sqlIdent, sqlString } from "../../src/processors/tabular/duckdb-session.js";
import {
  type ConvertResult,
  convertTabular,
  TabularError,
  type TabularFormat,
  tabularFormatOf,
} from "../../src/processors/tabular/index.js";
import { DUCK, useTabularHarness } from "../support/tabular-harness.js";

/**
 * JSON per RFC 8259: what it accepts converts (every value read back from the Parquet and compared with
 * JSON.parse of the same text, a repeated key keeping its last value), what it refuses is a parse or encoding
 * error, and valid JSON that is no list of records is a note. Keys are data: a key no column can be named after
 * gets a column name by the rule of column-names.ts, and the profile keeps the key as `source`.
 */

const t = useTabularHarness("sluice-json-rfc-");

const run = t.run;

async function refusal(name: string, content: string | Buffer): Promise<TabularError> {
  const err = await run(name, content).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, String(content)).toBeInstanceOf(TabularError);
  return err as TabularError;
}

/** The records as JSON.parse reads them. */
function oracle(format: "json" | "jsonl", withBom: string): Record<string, unknown>[] {
  // RFC 8259 lets a parser ignore a byte-order mark; JSON.parse does not, so it goes first.
  const text = withBom.replace(/^\ufeff/, "");
  if (format === "json") return JSON.parse(text) as Record<string, unknown>[];
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * Converts `text` and checks every value: `columns` maps each key (as JSON.parse gives it) to the column name it
 * must have. Values are compared as JSON (DuckDB's to_json of the Parquet value, parsed) with JSON.parse's.
 */
async function roundTrip(name: string, text: string, columns: Record<string, string>): Promise<ConvertResult> {
  const format = tabularFormatOf(name) as "json" | "jsonl";
  const r = await run(name, text);
  expect(r.parquetPath, text).not.toBeNull();
  const profile = r.profile?.columns ?? [];
  expect(profile.map((c) => c.name).sort()).toEqual(Object.values(columns).sort());
  for (const [key, column] of Object.entries(columns)) {
    const c = profile.find((x) => x.name === column);
    expect(c?.source, column).toBe(key === column ? undefined : key);
  }
  const select = Object.values(columns)
    .map((c) => `to_json(${sqlIdent(c)})::VARCHAR AS ${sqlIdent(c)}`)
    .join(", ");
  const rows = (
    await t.reader.conn.runAndReadAll(`SELECT ${select} FROM read_parquet(${sqlString(r.parquetPath as string)})`)
  ).getRowObjectsJS();
  const want = oracle(format, text);
  expect(rows).toHaveLength(want.length);
  want.forEach((rec, i) => {
    for (const [key, column] of Object.entries(columns)) {
      const got = rows[i]?.[column];
      const value = typeof got === "string" ? JSON.parse(got) : null;
      expect(value, `record ${i + 1}, key ${JSON.stringify(key)}`).toEqual(rec[key] ?? null);
    }
  });
  return r;
}

describe("RFC 8259 accepts it: converted, every value as JSON.parse reads it", () => {
  it("a key holding NUL (BUG 10: refused before; now a column named with `_`, the key kept as its source)", async () => {
    await roundTrip("nul.json", '[{"foo\\u0000bar": 42}, {"foo\\u0000bar": 7}]', { "foo\u0000bar": "foo_bar" });
    await roundTrip("nul.jsonl", '{"foo\\u0000bar": 42}\n{"a": 1}\n', { "foo\u0000bar": "foo_bar", a: "a" });
  });

  it("keys with control characters, escapes, quotes and non-ASCII characters", async () => {
    const text = '[{"a\\tb": 1, "c\\nd": 2, "\\u0061": 3, "q\\"q": 4, "\\u00e9t\\u00e9": 5, "日本": 6, "\\/": 7}]';
    await roundTrip("keys.json", text, {
      "a\tb": "a_b",
      "c\nd": "c_d",
      a: "a",
      'q"q': 'q"q',
      été: "été",
      日本: "日本",
      "/": "/",
    });
  });

  it("an empty key, keys equal but for case, and a key that only collides once cleaned: all kept apart", async () => {
    await roundTrip("names.json", '[{"": 1, "Name": "x", "a\\u0000b": 2}, {"name": "y", "a_b": 3, "NAME": "z"}]', {
      "": "column0",
      Name: "Name",
      "a\u0000b": "a_b",
      name: "name_1",
      a_b: "a_b_1",
      NAME: "NAME_2",
    });
  });

  it("a repeated key takes its last value, and the record is noted, not refused", async () => {
    const r = await roundTrip("dup.json", '[{"a": 1, "b": 2, "a": 3}, {"a": 4}, {"b": 5, "b": 6}]', {
      a: "a",
      b: "b",
    });
    expect(r.duplicateKeys).toEqual({ count: 2, records: [1, 3] });
    expect(r.validation).toBeUndefined();
    const l = await roundTrip("dup.jsonl", '{"a": 1}\n{"a": 2, "a": [3]}\n', { a: "a" });
    expect(l.duplicateKeys).toEqual({ count: 1, records: [2] });
  });

  it("nested objects with repeated keys, case twins (BUG 17: refused before) or NUL keys are kept as JSON text", async () => {
    const text = '[{"x": {"a": 1, "a": 2}, "y": {"D": null, "d": ""}, "z": [{"k\\u0000": true}]}]';
    const r = await roundTrip("nested.json", text, { x: "x", y: "y", z: "z" });
    expect(r.profile?.columns.map((c) => c.type)).toEqual(["JSON", "JSON", "JSON"]);
  });

  it("deep nesting (60 levels), surrogate pairs, escapes in values, every literal and number form", async () => {
    const deep = `${'{"d":'.repeat(60)}1${"}".repeat(60)}`;
    await roundTrip("deep.json", `[{"v": ${deep}}]`, { v: "v" });
    const text =
      '[{"s": "\\ud83d\\ude00 \u{1F600}", "e": "\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9", "t": true, "f": false, "n": null,' +
      ' "i": -12, "x": 1e3, "y": 1.5E-3, "z": 0}]';
    await roundTrip("values.json", text, { s: "s", e: "e", t: "t", f: "f", n: "n", i: "i", x: "x", y: "y", z: "z" });
  });

  it("big numbers: integers past 64 bits and doubles near the limits keep their value", async () => {
    const text =
      '[{"big": 123456789012345678901234567890, "huge": 1.5e300, "tiny": 5e-324, "i64": 9223372036854775807}]';
    const r = await roundTrip("big.json", text, { big: "big", huge: "huge", tiny: "tiny", i64: "i64" });
    // 2^63 - 1 is exact as BIGINT; JSON.parse rounds it, so compare its text too.
    const q = `SELECT i64::VARCHAR AS v FROM read_parquet(${sqlString(r.parquetPath as string)})`;
    expect((await t.reader.conn.runAndReadAll(q)).getRowObjectsJS()).toEqual([{ v: "9223372036854775807" }]);
  });

  it("whitespace around the text and a byte-order mark", async () => {
    await roundTrip("ws.json", ' \n\t[ {"a" : 1 } ,\r\n {"a":2}]\n ', { a: "a" });
    await roundTrip("bom.jsonl", '\ufeff{"a": 1}\r\n\r\n{"a": 2}\r\n', { a: "a" });
  });
});

describe("RFC 8259 refuses it: a parse (or encoding) error, located", () => {
  const refused = [
    '[{"a": 1,}]',
    '[{"a": 1]',
    "[{'a': 1}]",
    '[{"a": 01}]',
    '[{"a": .5}]',
    '[{"a": 1.}]',
    '[{"a": NaN}]',
    '[{"a": -Infinity}]',
    '[{"a": "x\ty"}]',
    '[{"a": "\\x"}]',
    '[{"a": "\\u12"}]',
    '[{"a" 1}]',
    '[{"a": tru}]',
    '[{"a": 1}] [2]',
    '[{"a": 1}',
    '{"a": 1',
  ];
  it.each(refused)("%s", async (text) => {
    const err = await refusal("bad.json", text);
    expect(err.code).toBe("SLUICE_ERR_PARSE");
    expect(err.where?.line).toBeGreaterThanOrEqual(1);
  });

  it("bytes that are not UTF-8, and UTF-16", async () => {
    expect(
      (await refusal("u.json", Buffer.from([0x5b, 0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d, 0x5d]))).code,
    ).toBe("SLUICE_ERR_PARSE");
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('[{"a":1}]', "utf16le")]);
    expect((await refusal("w.json", utf16)).code).toBe("SLUICE_ERR_ENCODING");
  });

  it("an empty or blank .json holds no JSON value: refused (an empty JSON Lines file is no table, a note)", async () => {
    for (const text of ["", " \n\t\r\n", "\ufeff"]) {
      const err = await refusal("e.json", text);
      expect(err.code).toBe("SLUICE_ERR_PARSE");
      expect(err.message).toMatch(/no JSON value/);
    }
    expect((await run("e.jsonl", " \n")).note).toMatch(/no records/);
  });

  it("a JSONL line RFC 8259 refuses is one invalid row; the others are kept", async () => {
    const r = await run("mixed.jsonl", '{"a": 1}\n{"a": 01}\n{"a": 3}\n');
    expect(r.validation?.invalidRows.map((x) => [x.row, x.error.split(":")[0]])).toEqual([[2, "invalid_json"]]);
    expect(r.profile?.rowCount).toBe(2);
  });
});

describe("valid JSON that holds no table: ingested raw with a note", () => {
  const notes: [string, string, RegExp][] = [
    ["an object", '{"a": 1}', /object, not an array/],
    ["a number", "3", /scalar/],
    ["a string", '"s"', /scalar/],
    ["null", "null", /scalar/],
    ["an empty array", "[]", /array is empty/],
    ["an array of numbers", "[1, 2]", /element 1 .* not an object/],
    ["an array of arrays", "[[1]]", /element 1 .* not an object/],
    ["records without keys", "[{}, {}]", /records have no fields/],
  ];
  it.each(notes)("%s", async (_, text, note) => {
    const r = await run("n.json", text);
    expect(r).toMatchObject({ parquetPath: null, profile: null });
    expect(r.note).toMatch(note);
  });
});

describe("error texts: the file as staged, records as 1-based data rows", () => {
  /** Converts through /proc/self/fd/N, as the pipeline does, under the name the user staged. */
  async function throughFd(name: string, content: string): Promise<TabularError> {
    const path = t.path(name);
    writeFileSync(path, content);
    const fd = openSync(path, "r");
    try {
      const err = await convertTabular(`/proc/self/fd/${fd}`, tabularFormatOf(name) as TabularFormat, `${path}.pq`, {
        ...DUCK,
        displayName: `incoming/${name}`,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TabularError);
      return err as TabularError;
    } finally {
      closeSync(fd);
    }
  }

  // A lone surrogate escape is valid RFC 8259 grammar (JSONTestSuite's i_ cases: implementation-defined); DuckDB
  // refuses the string, so sluice does, with DuckDB's words.
  it("a record DuckDB refuses: named by the staging name, counted from 1", async () => {
    const err = await throughFd("s.json", '[{"s": "ok"}, {"s": "\\ud800"}]');
    expect(err.code).toBe("SLUICE_ERR_PARSE");
    expect(err.message).toContain('"incoming/s.json"');
    expect(err.message).toContain("in record 2:");
    expect(err.message).not.toMatch(/proc\/self\/fd|records\.json/);
  });

  it("JSON Lines with a broken line before it: the record keeps its number in the file", async () => {
    const err = await throughFd("s.jsonl", '{"s": "ok"}\n{"s": 01}\n{"s": "\\ud800"}\n');
    expect(err.message).toContain('"incoming/s.jsonl"');
    expect(err.message).toContain("in record 3:");
    expect(err.message).not.toMatch(/proc\/self\/fd|records\.jsonl/);
  });
});
