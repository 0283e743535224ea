import { describe, expect, it } from "vitest";
import { sqlString } from "../../src/processors/tabular/duckdb-session.js";
import type { CsvFacts } from "../fixtures/lib/tables-csv.js";
import type { JsonFacts } from "../fixtures/lib/tables-json.js";
import { tabularFactsSuite, useTabularConversions } from "../suites/tabular-suite.js";
import { fixture, fixtureFacts } from "../support/fixture-files.js";

/**
 * convertTabular over this project's own tables (test/fixtures/gen/tables.ts): CRLF and LF, with and without a
 * final newline, quoted delimiters, quotes and line breaks, UTF-8 in every script, codes with leading zeros, a wide
 * table, a TSV, a 40,000-row CSV; JSON arrays with missing keys, nested and mixed values, JSON lines, and JSON
 * documents that are objects. Every expected value comes from the generator's model.
 */

const CSV = Object.entries(fixtureFacts<Record<string, CsvFacts>>("tables/csv.expected.json"));
const JSON_FILES = Object.entries(fixtureFacts<Record<string, JsonFacts>>("tables/json.expected.json"));
const ARRAYS = JSON_FILES.filter((e): e is [string, Extract<JsonFacts, { top_level: "list" }>] => "rows" in e[1]);

const conv = useTabularConversions(fixture);

tabularFactsSuite(conv, {
  csv: CSV,
  json: JSON_FILES,
  codes: { rel: "tables/csv/zipcodes.csv", column: "zip_code", value: "00501" },
  zstd: "tables/csv/stocks.csv",
  nested: "tables/json/weekly.json",
});

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

async function parquetOf(rel: string): Promise<string> {
  const { parquet, result } = await conv.convert(rel);
  expect(result.parquetPath, rel).toBe(parquet);
  return `read_parquet(${sqlString(parquet)})`;
}

/** Rows found by their key (compared as text), with the listed columns as text. */
async function rowsByKey(rel: string, key: string, keys: string[], columns: string[]) {
  const cols = [key, ...columns].map((c) => `${q(c)}::VARCHAR AS ${q(c)}`).join(", ");
  const where = `${q(key)}::VARCHAR IN (${keys.map((k) => sqlString(k)).join(", ")})`;
  const rows = await conv.query(`SELECT ${cols} FROM ${await parquetOf(rel)} WHERE ${where}`);
  return new Map(rows.map((r) => [String(r[key]), r]));
}

async function nullCounts(rel: string, columns: string[]): Promise<Record<string, unknown> | undefined> {
  const counts = columns.map((c) => `count(*) FILTER (WHERE ${q(c)} IS NULL)::INTEGER AS ${q(c)}`);
  return (await conv.query(`SELECT ${counts.join(", ")} FROM ${await parquetOf(rel)}`))[0];
}

describe("CSV and TSV values", () => {
  it.each(CSV)("%s: text reads back character for character", async (rel, f) => {
    const found = await rowsByKey(
      rel,
      f.key,
      f.samples.map((s) => s[f.key] as string),
      f.text_columns,
    );
    for (const want of f.samples) {
      const got = found.get(want[f.key] as string);
      // Only the sampled (non-empty) cells: an empty field's reading is checked by the NULL counts.
      expect(got && Object.fromEntries(Object.keys(want).map((c) => [c, got[c]])), `${f.key}=${want[f.key]}`).toEqual(
        want,
      );
    }
  });

  it.each(CSV)("%s: an empty field is NULL, and nothing else is", async (rel, f) => {
    expect(await nullCounts(rel, f.columns)).toEqual(f.null_counts);
  });

  it.each(CSV.filter(([, f]) => f.code_columns))(
    "%s: codes with leading zeros stay text, min and max intact",
    async (rel, f) => {
      const { parquet, result } = await conv.convert(rel);
      const types = (await conv.parquetFacts(parquet)).types;
      for (const code of f.code_columns ?? []) {
        expect(types[f.columns.indexOf(code.name)], code.name).toBe("VARCHAR");
        const profile = result.profile?.columns.find((c) => c.name === code.name);
        expect(profile).toMatchObject({ type: "VARCHAR", min: code.min, max: code.max });
      }
    },
  );

  it("a quoted CRLF inside a CRLF file is data; the line ends are not", async () => {
    const rel = "tables/csv/quoted_crlf.csv";
    const src = await parquetOf(rel);
    const [row] = await conv.query(
      `SELECT count(*) FILTER (WHERE comment LIKE '%' || chr(13) || chr(10) || '%')::INTEGER AS inside, count(*) FILTER (WHERE comment LIKE '%' || chr(13))::INTEGER AS trailing FROM ${src}`,
    );
    const f = Object.fromEntries(CSV)[rel] as CsvFacts;
    const planted = f.samples.filter((s) => s.comment?.includes("\r\n")).length;
    expect(planted).toBeGreaterThan(0);
    expect(row).toEqual({ inside: planted, trailing: 0 });
  });
});

describe("JSON values", () => {
  it.each(ARRAYS.filter(([, f]) => f.samples))("%s: strings read back exactly", async (rel, f) => {
    const key = f.key as string;
    const samples = f.samples ?? [];
    const columns = [...new Set(samples.flatMap((s) => Object.keys(s)))].filter((c) => c !== key);
    const found = await rowsByKey(
      rel,
      key,
      samples.map((s) => s[key] as string),
      columns,
    );
    for (const want of samples) {
      const got = found.get(want[key] as string);
      expect(got && Object.fromEntries(Object.keys(want).map((c) => [c, got[c]])), `${key}=${want[key]}`).toEqual(want);
    }
  });

  it.each(ARRAYS)("%s: a key that is absent or null in a record is NULL there", async (rel, f) => {
    expect(await nullCounts(rel, f.columns)).toEqual(f.null_counts);
  });

  it("JSON lines give the same table as the JSON array of the same records", async () => {
    for (const [rel, f] of JSON_FILES) {
      if (!("same_records_as" in f) || !f.same_records_as) continue;
      const [a, b] = [await parquetOf(rel), await parquetOf(f.same_records_as)];
      const [diff] = await conv.query(
        `SELECT (SELECT count(*) FROM (FROM ${a} EXCEPT ALL FROM ${b}))::INTEGER AS a_only, (SELECT count(*) FROM (FROM ${b} EXCEPT ALL FROM ${a}))::INTEGER AS b_only`,
      );
      expect(diff, rel).toEqual({ a_only: 0, b_only: 0 });
    }
  });

  it("a key holding numbers, strings, booleans, nulls, lists and objects keeps each value as JSON", async () => {
    const [rel, f] = ARRAYS.find(([, x]) => x.json_text) as [string, Extract<JsonFacts, { top_level: "list" }>];
    const { column, values } = f.json_text as { column: string; values: Record<string, string | null> };
    const rows = await conv.query(
      `SELECT ${q(f.key as string)}::VARCHAR AS k, ${q(column)}::VARCHAR AS v FROM ${await parquetOf(rel)}`,
    );
    expect(Object.fromEntries(rows.map((r) => [r.k, r.v]))).toEqual(values);
  });
});
