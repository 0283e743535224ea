import { mkdirSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DuckSession, openDuck, sqlIdent, sqlString } from "../../src/processors/tabular/duckdb-session.js";
import { JsonSyntax } from "../../src/processors/tabular/json-syntax.js";
import { SENSOR_READINGS } from "../../src/processors/validate/index.js";
import { chunked, makeRoot, params, removeRoot } from "./support.js";
import { convertChecked, DUCK } from "./tabular-check.js";

/**
 * JSON and JSON Lines: the streaming syntax checker every JSON input passes
 * first (src/processors/tabular/json-syntax.ts) against JSON.parse, then the
 * conversion (DuckDB) and the validator on arbitrary, broken and well-formed
 * files.
 */

let root: string;
let reader: DuckSession;
let n = 0;
beforeAll(async () => {
  root = makeRoot("json");
  reader = await openDuck(DUCK);
});
afterAll(() => {
  reader?.close();
  removeRoot(root);
});

function caseDir(): string {
  const dir = join(root, `c${n++}`);
  mkdirSync(dir);
  return dir;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** RFC 8259 on bytes: well-formed UTF-8 and a JSON text JSON.parse accepts. */
function isJson(bytes: Buffer): boolean {
  try {
    JSON.parse(strictUtf8.decode(bytes));
    return true;
  } catch {
    return false;
  }
}

function checkerVerdict(bytes: Buffer, cuts: number[]): { ok: boolean; line: number } {
  const syn = new JsonSyntax();
  for (const part of chunked(bytes, cuts)) if (!syn.feed(part)) break;
  const ok = syn.error === null && syn.end();
  return { ok, line: syn.line };
}

const TOKENS = [
  "{",
  "}",
  "[",
  "]",
  ",",
  ":",
  '"',
  "\\",
  "\\u00e9",
  "\\x",
  "0",
  "-",
  "1.5",
  "1e9",
  ".",
  "e",
  "true",
  "fals",
  "null",
  "NaN",
  "Infinity",
  " ",
  "\n",
  "\t",
  "\u0001",
  "é",
  "\ud83d\udcca",
  "\ufeff",
  "'",
  "a",
];

/** Text that is JSON, nearly JSON, or JSON-flavoured noise. */
const jsonish: fc.Arbitrary<Buffer> = fc.oneof(
  fc.json({ maxDepth: 4 }).map((s) => Buffer.from(s, "utf8")),
  fc.tuple(fc.json({ maxDepth: 4 }), fc.nat(), fc.constantFrom(...TOKENS), fc.boolean()).map(([s, at, tok, del]) => {
    const i = s.length === 0 ? 0 : at % s.length;
    return Buffer.from(del ? s.slice(0, i) + s.slice(i + 1) : s.slice(0, i) + tok + s.slice(i), "utf8");
  }),
  fc.array(fc.constantFrom(...TOKENS), { maxLength: 20 }).map((t) => Buffer.from(t.join(""), "utf8")),
  fc
    .array(
      fc.constantFrom(
        0x22,
        0x5b,
        0x5d,
        0x7b,
        0x7d,
        0x3a,
        0x2c,
        0x61,
        0x31,
        0x20,
        0x80,
        0xbf,
        0xc3,
        0xa9,
        0xe2,
        0xf0,
        0xff,
        0x00,
      ),
      {
        maxLength: 40,
      },
    )
    .map((b) => Buffer.from(b)),
);

describe("the JSON syntax checker", () => {
  it("accepts exactly what JSON.parse accepts on well-formed UTF-8, wherever the chunks end", () => {
    fc.assert(
      fc.property(jsonish, fc.array(fc.nat(), { maxLength: 5 }), (bytes, cuts) => {
        const whole = checkerVerdict(bytes, []);
        expect(whole.ok).toBe(isJson(bytes));
        expect(checkerVerdict(bytes, cuts)).toEqual(whole);
      }),
      params("json syntax vs JSON.parse", 0x750001, 1000),
    );
  });

  // BUG 9: the checker's UTF-8 test only checks that a lead byte is followed by the right number of continuation
  // bytes, so a string holding an encoded surrogate (ED A0 80), an overlong form (E0 80 80) or a code point past
  // U+10FFFF (F4 90 80 80) passes it. DuckDB then refuses the file: convertTabular throws DuckDB's raw
  // `Invalid Input Error: Malformed JSON in file …: invalid UTF-8 encoding in string` — not a TabularError, so
  // the pipeline quarantines it as SLUICE_ERR_INTERNAL; for JSONL the whole file fails instead of that one line
  // becoming an invalid row. Repro: `[{"a":"x\xED\xA0\x80"}]` as .json, or `{"a":"x\xED\xA0\x80"}\n{"a":"y"}\n`
  // as .jsonl. Expected: SLUICE_ERR_ENCODING for .json; for .jsonl an invalid row 1 and row {"a":"y"} kept.
  // Fixed: the first continuation byte's range now depends on the lead byte (Unicode table 3-7).
  it("BUG 9 (fixed): rejects an encoded surrogate, an overlong form and a code point past U+10FFFF", () => {
    for (const seq of [
      [0xed, 0xa0, 0x80],
      [0xe0, 0x80, 0x80],
      [0xf0, 0x80, 0x80, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
    ]) {
      expect(checkerVerdict(Buffer.from([0x5b, 0x22, ...seq, 0x22, 0x5d]), []).ok, seq.join(" ")).toBe(false);
    }
    // The edges of the same ranges are valid: U+D7FF, U+0800, U+10000, U+10FFFF.
    for (const seq of [
      [0xed, 0x9f, 0xbf],
      [0xe0, 0xa0, 0x80],
      [0xf0, 0x90, 0x80, 0x80],
      [0xf4, 0x8f, 0xbf, 0xbf],
    ]) {
      expect(checkerVerdict(Buffer.from([0x5b, 0x22, ...seq, 0x22, 0x5d]), []).ok, seq.join(" ")).toBe(true);
    }
  });

  it("BUG 9 (fixed): a JSONL line with an encoded surrogate is an invalid row; the other lines are kept", async () => {
    const dir = caseDir();
    const bad = Buffer.concat([
      Buffer.from('{"a":"x'),
      Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from('"}\n{"a":"y"}\n'),
    ]);
    const { result } = await convertChecked(dir, "u.jsonl", "jsonl", bad);
    expect(result?.profile?.rowCount).toBe(1);
    expect(result?.validation?.invalidRows.map((r) => r.row)).toEqual([1]);
  });
});

/** Object keys that upset column naming: empty, case twins, NUL, quotes, very long, dotted. */
const KEYS = [
  "id",
  "name",
  "Name",
  "NAME",
  "",
  " ",
  "a.b",
  'q"q',
  "x".repeat(300),
  "value",
  "sensor_id",
  "é",
  "\u0001",
];

const record = fc.dictionary(
  fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 })),
  fc.oneof(
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 10 }),
    fc.boolean(),
    fc.constant(null),
    fc.json({ maxDepth: 2 }).map((s) => JSON.parse(s) as unknown),
  ),
  { maxKeys: 5 },
);

/** JSON text of an array of records, possibly damaged; or JSON that is not a table. */
const jsonFile: fc.Arbitrary<Buffer> = fc.oneof(
  fc.array(record, { maxLength: 8 }).map((rs) => Buffer.from(JSON.stringify(rs), "utf8")),
  fc.tuple(fc.array(record, { minLength: 1, maxLength: 8 }), fc.nat()).map(([rs, cut]) => {
    const s = JSON.stringify(rs);
    return Buffer.from(s.slice(0, cut % s.length), "utf8");
  }),
  jsonish,
);

/** JSON Lines: records, blank lines and broken lines, CRLF or LF. */
const jsonlFile: fc.Arbitrary<Buffer> = fc
  .tuple(
    fc.array(
      fc.oneof(
        { weight: 6, arbitrary: record.map((r) => JSON.stringify(r)) },
        { weight: 1, arbitrary: fc.constantFrom("", "   ", "{", "[1,2]", "nope", '{"a":}', "NaN", '"s"', "{}") },
        { weight: 1, arbitrary: jsonish.map((b) => b.toString("utf8").replaceAll("\n", " ")) },
      ),
      { maxLength: 10 },
    ),
    fc.constantFrom("\n", "\r\n"),
    fc.boolean(),
  )
  .map(([lines, eol, bom]) => Buffer.from(`${bom ? "\ufeff" : ""}${lines.join(eol)}`, "utf8"));

describe.each([
  ["json", jsonFile],
  ["jsonl", jsonlFile],
] as const)("%s: arbitrary, broken and odd files, with and without a schema", (format, files) => {
  it("are converted, reported as not a table, or refused with a typed error; nothing else is written", async () => {
    await fc.assert(
      fc.asyncProperty(files, fc.boolean(), async (content, validate) => {
        const dir = caseDir();
        // Lax UTF-8, NUL keys, keyless records and nested empty keys included: BUGS 9 to 12, fixed.
        const schema = validate ? SENSOR_READINGS : null;
        await convertChecked(dir, `f.${format}`, format, content, schema);
        removeRoot(dir);
      }),
      params(`${format} arbitrary`, format === "json" ? 0x750002 : 0x750003, 80),
    );
  });
});

describe("json: records DuckDB cannot make columns of", () => {
  // BUG 10: a JSON/JSONL record key holding NUL (`[{"a\u0000b":1}]`) becomes a DuckDB column whose quoted name
  // ends at the NUL in the profile query's SQL text: convertTabular throws DuckDB's raw `Parser Error:
  // unterminated quoted identifier at or near ""a"` — not a TabularError, so the pipeline quarantines the file as
  // SLUICE_ERR_INTERNAL — and the Parquet it had renamed into place stays. (An empty key is fine: DuckDB names it
  // C0.) Expected: the name sanitised (NUL → `_`, as the SQL-dump reader does), or a TabularError.
  // Fixed first by refusing such a key (a parse error); since issue 16 (RFC 8259: any key is data) by naming the
  // column after the rule of column-names.ts (`a_b`) and keeping the key as the column's `source`.
  it('BUG 10 (fixed): `[{"a\\u0000b":1}]` converts to a column `a_b` whose source is the key; as JSONL too', async () => {
    const { result } = await convertChecked(caseDir(), "k.json", "json", Buffer.from('[{"a\\u0000b":1}]'));
    expect(result?.profile?.columns.map((c) => [c.name, c.source])).toEqual([["a_b", "a\u0000b"]]);
    const { result: lines } = await convertChecked(
      caseDir(),
      "k.jsonl",
      "jsonl",
      Buffer.from('{"a\\u0000b":1}\n{"a":2}\n'),
    );
    expect(lines?.profile?.rowCount).toBe(2);
    expect(lines?.validation).toBeUndefined();
  });

  // BUG 11: a JSON array whose records all have no key (`[{}]`), or a JSONL file of only `{}` lines, passes the
  // syntax check as a table, then DuckDB's read_json(records = 'true') fails with its raw `Binder Error:
  // json_read expected records, but got non-record JSON instead` — not a TabularError, so the pipeline
  // quarantines the file as SLUICE_ERR_INTERNAL (with --schema too). `[{},{"a":1}]` is fine. Expected: "not a
  // table: the records have no fields" (a note, raw file kept), as for other JSON that holds no table.
  // Fixed: DuckDB's "expected records" error on such a file becomes the note "not a table: the records have no fields".
  it("BUG 11 (fixed): `[{}]` is a note (not a table)", async () => {
    const { result } = await convertChecked(caseDir(), "e.json", "json", Buffer.from("[{}]"));
    expect(result?.note).toBe("not a table: the records have no fields");
  });

  it("BUG 11 (fixed): a JSONL file of `{}` lines is a note (not a table), with a schema too", async () => {
    const { result } = await convertChecked(caseDir(), "e.jsonl", "jsonl", Buffer.from("{}\n{}\n"), SENSOR_READINGS);
    expect(result?.note).toBe("not a table: the records have no fields");
  });
});

describe("json: any key is data (RFC 8259)", () => {
  // Records written pair by pair, so a key may repeat; keys from the odd ones above, NUL and its `_` look-alike,
  // case twins. Oracle: JSON.parse of the same text (a repeated key keeps its last value), every cell.
  const key = fc.oneof(fc.constantFrom(...KEYS, "a\u0000b", "a_b", "A", "a", "\u001f"), fc.string({ maxLength: 4 }));
  const value = fc.oneof(fc.string({ maxLength: 6 }), fc.constant(null));
  const rec = fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 6 });
  it("every key is a column (its name by column-names.ts, the key as its source), every value JSON.parse's", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(rec, { minLength: 1, maxLength: 6 }),
        fc.constantFrom("json", "jsonl"),
        async (rs, format) => {
          const texts = rs.map(
            (pairs) => `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`,
          );
          const body = format === "json" ? `[${texts.join(",")}]` : texts.join("\n");
          const dir = caseDir();
          const { result, error } = await convertChecked(dir, `k.${format}`, format, Buffer.from(body, "utf8"));
          expect(error).toBeNull();
          const want = texts.map((t) => JSON.parse(t) as Record<string, unknown>);
          const columns = new Map((result?.profile?.columns ?? []).map((c) => [c.source ?? c.name, c.name]));
          expect(new Set(columns.keys())).toEqual(new Set(want.flatMap((r) => Object.keys(r))));
          const repeated = rs.flatMap((pairs, i) =>
            new Set(pairs.map(([k]) => k)).size < pairs.length ? [i + 1] : [],
          );
          expect(result?.duplicateKeys ?? { count: 0, records: [] }).toEqual({
            count: repeated.length,
            records: repeated,
          });
          const select = [...columns.values()]
            .map((c) => `to_json(${sqlIdent(c)})::VARCHAR AS ${sqlIdent(c)}`)
            .join(", ");
          const got = (
            await reader.conn.runAndReadAll(
              `SELECT ${select} FROM read_parquet(${sqlString(result?.parquetPath as string)})`,
            )
          ).getRowObjectsJS();
          expect(
            got.map((row) => [...columns].map(([, c]) => (row[c] === null ? null : JSON.parse(String(row[c]))))),
          ).toEqual(want.map((r) => [...columns].map(([k]) => r[k] ?? null)));
          removeRoot(dir);
        },
      ),
      params("json keys vs JSON.parse", 0x750006, 60),
    );
  });
});

describe("json with a schema: nested values with an empty key", () => {
  // BUG 12: with a schema, a JSON/JSONL record whose non-schema field holds an object with an empty key
  // (`{"id":{"":null}}` as .jsonl, `[{"id":[{"":null}]}]` as .json) fails: the staged read (json-convert.ts
  // staged()) hands DuckDB's DESCRIBE type text back as `columns = {'id': 'STRUCT(JSON)'}`, and that text (the
  // empty field name is lost) does not parse: DuckDB's raw `Invalid Input Error: Value "STRUCT(JSON)" can not be
  // converted to a DuckDB Type` escapes — not a TabularError, so the pipeline quarantines the file as
  // SLUICE_ERR_INTERNAL. Without a schema the file converts. Expected: converted, `id` kept as JSON text.
  // BUG 16 (fixed, found at SLUICE_FUZZ_SCALE=3): without a schema too, `{"id":{"":[]}}` became an unnamed STRUCT
  // that DuckDB writes to Parquet but cannot read back ("Binder Error: Struct remap can only remap named structs"
  // in the profile): SLUICE_ERR_INTERNAL. Fixed with 12: a file with an empty key anywhere has its nested columns
  // read as JSON text.
  it('BUG 16 (fixed): `{"id":{"":[]}}` without a schema converts, `id` kept as its JSON text', async () => {
    const { result } = await convertChecked(caseDir(), "n.jsonl", "jsonl", Buffer.from('{"id":{"":[]}}\n'));
    expect(result?.profile?.rowCount).toBe(1);
    expect(result?.profile?.columns.map((c) => [c.name, c.type])).toEqual([["id", "JSON"]]);
  });

  // BUG 17 (fixed, found at SLUICE_FUZZ_SCALE=4): nested keys differing only in case (`{"x":{"D":null,"d":""}}`)
  // make DuckDB's auto-detection fail with `Not implemented Error: Duplicate name "d" in struct`, which escaped as
  // SLUICE_ERR_INTERNAL. Fixed first in convert.ts (DuckDB's refusals of a file's content are parse errors);
  // since issue 16 the file converts: such nested values are read as their JSON text, as for an empty key.
  it('BUG 17 (fixed): `{"x":{"D":null,"d":""}}` converts, `x` kept as its JSON text', async () => {
    const { result } = await convertChecked(caseDir(), "d.jsonl", "jsonl", Buffer.from('{"x":{"D":null,"d":""}}\n'));
    expect(result?.profile?.columns.map((c) => [c.name, c.type])).toEqual([["x", "JSON"]]);
  });

  // Fixed: a file with an empty key anywhere has its nested columns read as JSON text.
  it('BUG 12 (fixed): `{"id":{"":null}}` with the sensor-readings schema converts', async () => {
    const dir = caseDir();
    const { result } = await convertChecked(
      dir,
      "n.jsonl",
      "jsonl",
      Buffer.from('{"id":{"":null}}\n'),
      SENSOR_READINGS,
    );
    // Converted, not thrown: the record lacks the schema's columns, so it is the one invalid row.
    expect(result?.validation?.invalidRows.map((r) => [r.row, r.error.split(":")[0]])).toEqual([[1, "missing_field"]]);
  });
});

describe("jsonl: good and bad lines", () => {
  it("keeps every object line and reports every other line as invalid_json with its record number", async () => {
    const line = fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .record({ id: fc.integer(), name: fc.string({ maxLength: 8 }) })
          .map((o) => ({ good: true, text: JSON.stringify(o) })),
      },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom("{", "[1,2]", "nope", '{"a":}', "NaN", '"s"', "12")
          .map((text) => ({ good: false, text })),
      },
      { weight: 1, arbitrary: fc.constantFrom("", "  ", "\t").map((text) => ({ good: null, text })) },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { minLength: 1, maxLength: 15 }),
        fc.constantFrom("\n", "\r\n"),
        async (lines, eol) => {
          const dir = caseDir();
          const text = lines.map((l) => l.text).join(eol);
          const records = lines.filter((l) => l.good !== null);
          const good = records.filter((l) => l.good).length;
          const badAt = records.flatMap((l, i) => (l.good ? [] : [i + 1]));
          const { result, error } = await convertChecked(dir, "l.jsonl", "jsonl", Buffer.from(text, "utf8"));
          if (good === 0) {
            // No object at all: not a table, or a parse error naming the first bad line.
            expect(result?.parquetPath ?? null).toBeNull();
          } else {
            expect(error).toBeNull();
            expect(result?.profile?.rowCount).toBe(good);
            expect(result?.validation?.invalidRows.map((r) => [r.row, r.error.split(":")[0]]) ?? []).toEqual(
              badAt.map((r) => [r, "invalid_json"]),
            );
          }
          removeRoot(dir);
        },
      ),
      params("jsonl good and bad lines", 0x750004, 60),
    );
  });
});

describe("json with the sensor-readings schema", () => {
  type Field = { value: unknown; bad: string | null } | undefined;
  const sensor = fc.constantFrom<Field>(
    { value: "S1", bad: null },
    { value: "x-9", bad: null },
    { value: "", bad: "empty_sensor_id" },
    { value: null, bad: "missing_field" },
    undefined,
  );
  const stamp = fc.constantFrom<Field>(
    { value: "2024-03-01T00:00:00Z", bad: null },
    { value: 1709251200, bad: null },
    { value: "nope", bad: "bad_timestamp" },
    { value: null, bad: "missing_field" },
    undefined,
  );
  const reading = fc.constantFrom<Field>(
    { value: 1.5, bad: null },
    { value: -3, bad: null },
    { value: "abc", bad: "non_numeric_value" },
    { value: "NaN", bad: "nan_or_infinity" },
    { value: null, bad: "missing_field" },
    undefined,
  );
  it("keeps exactly the valid records and reports every other one with its number and reason", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(sensor, stamp, reading), { minLength: 1, maxLength: 12 }), async (rows) => {
        const dir = caseDir();
        const objects = rows.map(([s, t, v]) => {
          const o: Record<string, unknown> = {};
          if (s) o.sensor_id = s.value;
          if (t) o.timestamp = t.value;
          if (v) o.value = v.value;
          return o;
        });
        // A key absent from every record is not a column at all: "missing_field" still, from the header check.
        const verdict = (f: Field): string | null => (f === undefined ? "missing_field" : f.bad);
        const want = rows.flatMap(([s, t, v], i) => {
          const bad = verdict(s) ?? verdict(t) ?? verdict(v);
          return bad ? [[i + 1, bad]] : [];
        });
        const { result, error } = await convertChecked(
          dir,
          "s.json",
          "json",
          Buffer.from(JSON.stringify(objects)),
          SENSOR_READINGS,
        );
        const valid = rows.length - want.length;
        if (objects.every((o) => Object.keys(o).length === 0)) {
          // Records without any key: DuckDB sees no column; whatever the outcome, no valid row.
          expect(result?.validation?.rowCount ?? 0).toBe(0);
        } else {
          expect(error).toBeNull();
          expect(result?.validation?.rowCount).toBe(valid);
          expect(result?.validation?.invalidRows.map((x) => [x.row, x.error.split(":")[0]])).toEqual(want);
        }
        removeRoot(dir);
      }),
      params("json schema oracle", 0x750005, 50),
    );
  });
});
