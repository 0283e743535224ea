import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DuckSession, openDuck, sqlString } from "../../../src/processors/tabular/duckdb-session.js";
import {
  type ConvertResult,
  convertTabular,
  TabularError,
  tabularFormatOf,
} from "../../../src/processors/tabular/index.js";

import { CORPUS } from "../shared-corpus.js";

const BAD = join(CORPUS, "bad");
const DUCK = { memoryLimit: "512MB", threads: 2 };

let reader: DuckSession;
let out: string;

beforeAll(async () => {
  reader = await openDuck(DUCK);
  out = await mkdtemp(join(tmpdir(), "sluice-tabular-bad-"));
});
afterAll(async () => {
  reader?.close();
  await rm(out, { recursive: true, force: true });
});

async function convert(name: string): Promise<ConvertResult & { rejects: string }> {
  const format = tabularFormatOf(name);
  if (!format) throw new Error(`${name} is not tabular`);
  const parquet = join(out, `${name}.parquet`);
  const rejects = join(out, `${name}.rejects.jsonl`);
  const result = await convertTabular(join(BAD, name), format, parquet, { ...DUCK, rejectsPath: rejects });
  return { ...result, rejects };
}

async function failure(name: string): Promise<TabularError> {
  const err = await convert(name).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TabularError);
  return err as TabularError;
}

async function rows(result: ConvertResult): Promise<Record<string, unknown>[]> {
  if (!result.parquetPath) throw new Error("no Parquet");
  const r = await reader.conn.runAndReadAll(`SELECT * FROM read_parquet(${sqlString(result.parquetPath)})`);
  return r.getRowObjectsJS();
}

const codes = (r: ConvertResult) => r.validation?.invalidRows.map((x) => [x.row, x.error.split(":")[0]]);

/** One decision per bad/ CSV, TSV, JSON and JSONL file; the test below checks none is left out. */
const OUTCOMES: Record<string, () => Promise<void>> = {
  "ragged_rows.csv": async () => {
    // Short and long rows are reported, the well-formed ones kept. Row 6 only has two trailing *empty*
    // fields, which DuckDB drops (no data is lost), so it is kept too.
    const r = await convert("ragged_rows.csv");
    expect(r.validation?.status).toBe("partial");
    expect(codes(r)).toEqual([
      [2, "missing_field"],
      [3, "extra_column"],
      [5, "missing_field"],
    ]);
    expect((await rows(r)).map((x) => Number(x.id))).toEqual([1, 4, 6, 7]);
    expect(readFileSync(r.rejects, "utf8").trim().split("\n")).toHaveLength(3);
  },
  "unterminated_quote.csv": async () => {
    // The unclosed quote swallows the rest of the file: row 1 is kept, the failure is reported at row 2.
    const r = await convert("unterminated_quote.csv");
    expect(r.validation?.status).toBe("partial");
    expect(codes(r)).toEqual([[2, "unterminated_quote"]]);
    expect(await rows(r)).toEqual([{ id: "1", comment: "fine", value: "10" }]);
  },
  "nul_bytes.csv": async () => {
    // NUL is a valid character in Parquet strings: kept as is.
    const r = await convert("nul_bytes.csv");
    expect(r.validation).toBeUndefined();
    const all = await rows(r);
    expect(all).toHaveLength(4);
    expect(all[0]?.name).toBe("ab\u0000cd");
  },
  "invalid_utf8.csv": async () => {
    const r = await convert("invalid_utf8.csv");
    expect(r.validation?.status).toBe("partial");
    expect(codes(r)).toEqual([1, 2, 3, 4, 5, 7].map((n) => [n, "invalid_encoding"]));
    expect(await rows(r)).toEqual([{ id: 6n, name: "valid ü" }]);
  },
  "latin1_encoded.csv": async () => {
    // Not one row is UTF-8: no table, an encoding error pointing at the first row; no guessing at code pages.
    const err = await failure("latin1_encoded.csv");
    expect(err.code).toBe("SLUICE_ERR_ENCODING");
    expect(err.where).toEqual({ row: 1, line: 2 });
  },
  "bom_utf8.csv": async () => {
    const r = await convert("bom_utf8.csv");
    expect(r.profile?.columns.map((c) => c.name)).toEqual(["id", "name", "value"]);
    expect(r.profile?.rowCount).toBe(2);
  },
  "bom_utf16le.csv": async () => {
    // DuckDB reads UTF-16LE when told (the BOM tells us): the same table as the UTF-8 file.
    const r = await convert("bom_utf16le.csv");
    expect(r.profile?.columns.map((c) => c.name)).toEqual(["id", "name", "value"]);
    expect((await rows(r)).map((x) => x.name)).toEqual(["a", "é"]);
  },
  "mixed_line_endings.csv": async () => {
    // DuckDB's strict mode refuses mixed endings; read leniently (as text), all 5 rows, the quoted LF kept.
    const r = await convert("mixed_line_endings.csv");
    const all = await rows(r);
    expect(all.map((x) => x.id)).toEqual(["1", "2", "3", "4", "5"]);
    expect(all[2]?.value).toBe("multi\nline");
  },
  "cr_only_line_endings.csv": async () => {
    const r = await convert("cr_only_line_endings.csv");
    expect(r.profile?.rowCount).toBe(3);
    expect(r.profile?.columns.map((c) => c.name)).toEqual(["id", "value"]);
  },
  "long_line_10MB.csv": async () => {
    const r = await convert("long_line_10MB.csv");
    const len = await reader.conn.runAndReadAll(
      `SELECT length(payload) AS n FROM read_parquet(${sqlString(r.parquetPath as string)})`,
    );
    expect(len.getRowObjectsJS()).toEqual([{ n: 9_999_998n }]);
  },
  "empty.csv": async () => {
    const r = await convert("empty.csv");
    expect(r).toMatchObject({ parquetPath: null, profile: null });
    expect(r.note).toMatch(/empty/);
  },
  "blank_lines_only.csv": async () => {
    const r = await convert("blank_lines_only.csv");
    expect(r).toMatchObject({ parquetPath: null, profile: null });
    expect(r.note).toMatch(/empty/);
  },
  "header_only.csv": async () => {
    const r = await convert("header_only.csv");
    expect(r.profile).toMatchObject({ rowCount: 0 });
    expect(r.profile?.columns.map((c) => c.name)).toEqual(["id", "name", "value"]);
  },
  "header_only_no_newline.csv": async () => {
    const r = await convert("header_only_no_newline.csv");
    expect(r.profile).toMatchObject({ rowCount: 0 });
    expect(r.profile?.columns.map((c) => c.name)).toEqual(["id", "name", "value"]);
  },
  "duplicate_and_empty_headers.csv": async () => {
    // Parquet needs unique names: repeats get a suffix, the empty one its position (DuckDB's naming).
    const r = await convert("duplicate_and_empty_headers.csv");
    expect(r.profile?.columns.map((c) => c.name)).toEqual(["id", "value", "value_1", "column3", "id_1"]);
    expect(r.profile?.rowCount).toBe(2);
  },
  "formula_injection.csv": async () => {
    const r = await convert("formula_injection.csv");
    const cells = (await rows(r)).map((x) => x.cell);
    expect(cells).toHaveLength(5);
    expect(cells[0]).toBe("=1+1");
  },
  "truncated.json": async () => {
    // A JSON array is one document: cut off, it is a parse error (no partial table), located.
    const err = await failure("truncated.json");
    const lines = readFileSync(join(BAD, "truncated.json"), "utf8").split("\n").length;
    expect(err.code).toBe("SLUICE_ERR_PARSE");
    expect(err.where).toEqual({ line: lines, row: 38 });
  },
  "bad_line_middle.jsonl": async () => {
    // JSONL records are independent: the broken line is reported, the 20 others converted (line 12 included).
    const r = await convert("bad_line_middle.jsonl");
    expect(r.validation?.status).toBe("partial");
    expect(codes(r)).toEqual([[11, "invalid_json"]]);
    expect((await rows(r)).map((x) => Number(x.id))).toEqual(
      [...Array(21).keys()].map((i) => i + 1).filter((i) => i !== 11),
    );
  },
  "blank_lines_crlf.jsonl": async () => {
    const r = await convert("blank_lines_crlf.jsonl");
    expect(r.validation).toBeUndefined();
    expect((await rows(r)).map((x) => Number(x.id))).toEqual([1, 2, 3]);
  },
  "deeply_nested.json": async () => {
    // Valid JSON (DuckDB's reader segfaults on it): checked without recursion, and it is no list of records.
    const r = await convert("deeply_nested.json");
    expect(r).toMatchObject({ parquetPath: null, profile: null });
    expect(r.note).toMatch(/not a table: element 1 .* not an object/);
  },
  "nan_infinity.json": async () => {
    // Strict JSON: NaN and Infinity are not numbers (DuckDB alone would accept them).
    const err = await failure("nan_infinity.json");
    expect(err.code).toBe("SLUICE_ERR_PARSE");
    expect(err.message).toMatch(/NaN and Infinity/);
    expect(err.where).toEqual({ line: 1, row: 1 });
  },
  "top_level_scalar.json": async () => {
    const r = await convert("top_level_scalar.json");
    expect(r.parquetPath).toBeNull();
    expect(r.note).toMatch(/scalar/);
  },
  "bom.json": async () => {
    const r = await convert("bom.json");
    expect(r.profile?.rowCount).toBe(2);
    expect(r.profile?.columns.map((c) => c.name).sort()).toEqual(["id", "name"]);
  },
  "bad.expected.json": async () => {
    // The facts file itself: a JSON object, so not a table.
    const r = await convert("bad.expected.json");
    expect(r.note).toMatch(/object/);
  },
};

describe("bad/: every malformed CSV and JSON file has a decided outcome", () => {
  it("covers every tabular file in bad/", () => {
    const tabular = readdirSync(BAD).filter((n) => tabularFormatOf(n) !== null);
    expect(Object.keys(OUTCOMES).sort()).toEqual(tabular.sort());
  });
  for (const [name, check] of Object.entries(OUTCOMES)) it(name, check);
});
