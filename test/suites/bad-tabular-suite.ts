import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DuckSession, openDuck, sqlString } from "../../src/processors/tabular/duckdb-session.js";
import {
  type ConvertResult,
  convertTabular,
  TabularError,
  tabularFormatOf,
} from "../../src/processors/tabular/index.js";

/**
 * The facts of a bad/ file, as test/fixtures/gen/bad.ts and the shared corpus' bad/gen_bad.py state them (the
 * corpus lacks the value-level keys; its conformance test supplies them as `extras`).
 */
export interface BadFileFacts {
  rows?: number;
  columns?: string[];
  ragged_rows?: Record<string, number>;
  well_formed_rows?: number[];
  trailing_empty_rows?: number[];
  error_starts_at_data_row?: number;
  rows_before_error_values?: Record<string, unknown>[];
  row_1_values?: Record<string, unknown>;
  rows_with_invalid_utf8?: number[];
  valid_row_values?: Record<string, unknown>[];
  rows_with_non_ascii?: number[];
  name_values?: string[];
  row_3_value?: string;
  payload_length?: number;
  cells?: string[];
  complete_objects_before_cut?: number;
  lines?: number;
  invalid_line_numbers?: number[];
  objects?: number;
  first_invalid_at?: { line: number; row: number };
}

const DUCK = { memoryLimit: "512MB", threads: 2 };

function need<K extends keyof BadFileFacts>(f: BadFileFacts, key: K): NonNullable<BadFileFacts[K]> {
  const v = f[key];
  if (v === undefined) throw new Error(`the facts lack ${key}`);
  return v as NonNullable<BadFileFacts[K]>;
}

/** DuckDB's names for a header: a repeated name gets `_1`, `_2`…, an empty one `column<0-based position>`. */
function uniqueNames(columns: string[]): string[] {
  const seen = new Map<string, number>();
  return columns.map((c, i) => {
    if (c === "") return `column${i}`;
    const n = seen.get(c) ?? 0;
    seen.set(c, n + 1);
    return n === 0 ? c : `${c}_${n}`;
  });
}

/** JSON facts hold integers as numbers; DuckDB gives BIGINT columns back as bigint. */
const asRow = (v: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === "number" ? BigInt(x) : x]));
const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/**
 * convertTabular (no schema) on every CSV and JSON(L) file of a bad/ directory: one decided outcome per file,
 * checked against the facts, and a check that no tabular file is left without one. Used by the main suite
 * (generated bad/) and the conformance tier (the shared corpus' bad/).
 */
export function badTabularSuite(
  dir: string,
  facts: Record<string, BadFileFacts>,
  extras: Record<string, BadFileFacts> = {},
): void {
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

  const factsOf = (name: string): BadFileFacts => ({ ...facts[name], ...extras[name] });

  async function convert(name: string): Promise<ConvertResult & { rejects: string }> {
    const format = tabularFormatOf(name);
    if (!format) throw new Error(`${name} is not tabular`);
    const parquet = join(out, `${name}.parquet`);
    const rejects = join(out, `${name}.rejects.jsonl`);
    const result = await convertTabular(join(dir, name), format, parquet, { ...DUCK, rejectsPath: rejects });
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
  const names = (r: ConvertResult) => r.profile?.columns.map((c) => c.name);

  const noTable = async (name: string, note: RegExp) => {
    const r = await convert(name);
    expect(r).toMatchObject({ parquetPath: null, profile: null });
    expect(r.note).toMatch(note);
  };
  const headerOnly = async (name: string) => {
    const r = await convert(name);
    expect(r.profile).toMatchObject({ rowCount: 0 });
    expect(names(r)).toEqual(need(factsOf(name), "columns"));
  };

  /** One decision per bad/ CSV, TSV, JSON and JSONL file; the test below checks none is left out. */
  const OUTCOMES: Record<string, (f: BadFileFacts) => Promise<void>> = {
    "ragged_rows.csv": async (f) => {
      // Short and long rows are reported, the well-formed ones kept. A row whose only extra fields are *empty*
      // loses nothing when DuckDB drops them, so it is kept too.
      const width = need(f, "columns").length;
      const trailing = need(f, "trailing_empty_rows");
      const reported = Object.entries(need(f, "ragged_rows"))
        .filter(([row]) => !trailing.includes(Number(row)))
        .map(([row, n]) => [Number(row), n < width ? "missing_field" : "extra_column"]);
      const r = await convert("ragged_rows.csv");
      expect(r.validation?.status).toBe("partial");
      expect(codes(r)).toEqual(reported);
      const kept = [...need(f, "well_formed_rows"), ...trailing].sort((a, b) => a - b);
      expect((await rows(r)).map((x) => Number(x.id))).toEqual(kept);
      expect(readFileSync(r.rejects, "utf8").trim().split("\n")).toHaveLength(reported.length);
    },
    "unterminated_quote.csv": async (f) => {
      // The unclosed quote swallows the rest of the file: the rows before it are kept, the failure is reported there.
      const r = await convert("unterminated_quote.csv");
      expect(r.validation?.status).toBe("partial");
      expect(codes(r)).toEqual([[need(f, "error_starts_at_data_row"), "unterminated_quote"]]);
      expect(await rows(r)).toEqual(need(f, "rows_before_error_values"));
    },
    "nul_bytes.csv": async (f) => {
      // NUL is a valid character in Parquet strings: kept as is.
      const r = await convert("nul_bytes.csv");
      expect(r.validation).toBeUndefined();
      const all = await rows(r);
      expect(all).toHaveLength(need(f, "rows"));
      expect(all[0]).toMatchObject(need(f, "row_1_values"));
    },
    "invalid_utf8.csv": async (f) => {
      const r = await convert("invalid_utf8.csv");
      expect(r.validation?.status).toBe("partial");
      expect(codes(r)).toEqual(need(f, "rows_with_invalid_utf8").map((n) => [n, "invalid_encoding"]));
      expect(await rows(r)).toEqual(need(f, "valid_row_values").map(asRow));
    },
    "latin1_encoded.csv": async (f) => {
      // Not one row is UTF-8: no table, an encoding error pointing at the first row; no guessing at code pages.
      const err = await failure("latin1_encoded.csv");
      const first = need(f, "rows_with_non_ascii")[0] as number;
      expect(err.code).toBe("SLUICE_ERR_ENCODING");
      expect(err.where).toEqual({ row: first, line: first + 1 });
    },
    "bom_utf8.csv": async (f) => {
      const r = await convert("bom_utf8.csv");
      expect(names(r)).toEqual(need(f, "columns"));
      expect(r.profile?.rowCount).toBe(need(f, "rows"));
    },
    "bom_utf16le.csv": async (f) => {
      // DuckDB reads UTF-16LE when told (the BOM tells us): the same table as the UTF-8 file.
      const r = await convert("bom_utf16le.csv");
      expect(names(r)).toEqual(need(f, "columns"));
      expect((await rows(r)).map((x) => x.name)).toEqual(need(f, "name_values"));
    },
    "mixed_line_endings.csv": async (f) => {
      // DuckDB's strict mode refuses mixed endings; read leniently (as text), every row, the quoted LF kept.
      const r = await convert("mixed_line_endings.csv");
      const all = await rows(r);
      expect(all.map((x) => x.id)).toEqual(upTo(need(f, "rows")).map(String));
      expect(all[2]?.value).toBe(need(f, "row_3_value"));
    },
    "cr_only_line_endings.csv": async (f) => {
      const r = await convert("cr_only_line_endings.csv");
      expect(r.profile?.rowCount).toBe(need(f, "rows"));
      expect(names(r)).toEqual(need(f, "columns"));
    },
    "long_line_10MB.csv": async (f) => {
      const r = await convert("long_line_10MB.csv");
      const len = await reader.conn.runAndReadAll(
        `SELECT length(payload) AS n FROM read_parquet(${sqlString(r.parquetPath as string)})`,
      );
      expect(len.getRowObjectsJS()).toEqual([{ n: BigInt(need(f, "payload_length")) }]);
    },
    "empty.csv": () => noTable("empty.csv", /empty/),
    "blank_lines_only.csv": () => noTable("blank_lines_only.csv", /empty/),
    "header_only.csv": () => headerOnly("header_only.csv"),
    "header_only_no_newline.csv": () => headerOnly("header_only_no_newline.csv"),
    "duplicate_and_empty_headers.csv": async (f) => {
      // Parquet needs unique names: repeats get a suffix, the empty one its position (DuckDB's naming).
      const r = await convert("duplicate_and_empty_headers.csv");
      expect(names(r)).toEqual(uniqueNames(need(f, "columns")));
      expect(r.profile?.rowCount).toBe(need(f, "rows"));
    },
    "formula_injection.csv": async (f) => {
      const r = await convert("formula_injection.csv");
      expect((await rows(r)).map((x) => x.cell)).toEqual(need(f, "cells"));
    },
    "truncated.json": async (f) => {
      // A JSON array is one document: cut off, it is a parse error (no partial table), located.
      const err = await failure("truncated.json");
      const lines = readFileSync(join(dir, "truncated.json"), "utf8").split("\n").length;
      expect(err.code).toBe("SLUICE_ERR_PARSE");
      expect(err.where).toEqual({ line: lines, row: need(f, "complete_objects_before_cut") + 1 });
    },
    "bad_line_middle.jsonl": async (f) => {
      // JSONL records are independent: the broken lines are reported, the others converted (those after included).
      const bad = need(f, "invalid_line_numbers");
      const r = await convert("bad_line_middle.jsonl");
      expect(r.validation?.status).toBe("partial");
      expect(codes(r)).toEqual(bad.map((n) => [n, "invalid_json"]));
      expect((await rows(r)).map((x) => Number(x.id))).toEqual(upTo(need(f, "lines")).filter((i) => !bad.includes(i)));
    },
    "blank_lines_crlf.jsonl": async (f) => {
      const r = await convert("blank_lines_crlf.jsonl");
      expect(r.validation).toBeUndefined();
      expect((await rows(r)).map((x) => Number(x.id))).toEqual(upTo(need(f, "objects")));
    },
    // Valid JSON (DuckDB's reader segfaults on it): checked without recursion, and it is no list of records.
    "deeply_nested.json": () => noTable("deeply_nested.json", /not a table: element 1 .* not an object/),
    "nan_infinity.json": async (f) => {
      // Strict JSON: NaN and Infinity are not numbers (DuckDB alone would accept them).
      const err = await failure("nan_infinity.json");
      expect(err.code).toBe("SLUICE_ERR_PARSE");
      expect(err.message).toMatch(/NaN and Infinity/);
      expect(err.where).toEqual(need(f, "first_invalid_at"));
    },
    "top_level_scalar.json": async () => {
      const r = await convert("top_level_scalar.json");
      expect(r.parquetPath).toBeNull();
      expect(r.note).toMatch(/scalar/);
    },
    "bom.json": async (f) => {
      const r = await convert("bom.json");
      expect(r.profile?.rowCount).toBe(need(f, "rows"));
      expect(names(r)?.sort()).toEqual([...need(f, "columns")].sort());
    },
    "bad.expected.json": async () => {
      // The facts file itself: a JSON object, so not a table.
      const r = await convert("bad.expected.json");
      expect(r.note).toMatch(/object/);
    },
  };

  describe("bad/: every malformed CSV and JSON file has a decided outcome", () => {
    it("covers every tabular file in bad/", () => {
      const tabular = readdirSync(dir).filter((n) => tabularFormatOf(n) !== null);
      expect(Object.keys(OUTCOMES).sort()).toEqual(tabular.sort());
    });
    for (const [name, check] of Object.entries(OUTCOMES)) it(name, () => check(factsOf(name)));
  });
}
