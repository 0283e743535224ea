import { closeSync, openSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { columnNames } from "../../src/processors/tabular/column-names.js";
import { sqlIdent, sqlString } from "../../src/processors/tabular/duckdb-session.js";
import { type ConvertResult, convertTabular, TabularError } from "../../src/processors/tabular/index.js";
import type { FeedSchema } from "../../src/processors/validate/index.js";
import { DUCK, useTabularHarness } from "../support/tabular-harness.js";

/**
 * The CSV rules one case at a time: a quoted `""` is an empty string and an unquoted empty field NULL (without a
 * schema, on the one-pass typed path and on the staged path), a damaged header or a ragged row costs that row at
 * most, a schema's columns apply whatever the dialect, and error texts name the file as the user knows it.
 */

const t = useTabularHarness("sluice-csv-rules-");

const run = t.run;

/** Every row, every column as text (NULL stays null). */
async function rows(r: ConvertResult): Promise<(string | null)[][]> {
  const names = (r.profile?.columns ?? []).map((c) => `${sqlIdent(c.name)}::VARCHAR`).join(", ");
  const sql = `SELECT ${names} FROM read_parquet(${sqlString(r.parquetPath as string)})`;
  return (await t.reader.conn.runAndReadAll(sql)).getRows() as (string | null)[][];
}

const schema = (columns: FeedSchema["columns"]): FeedSchema => ({ name: "t", match: ["*"], columns });

describe('a quoted "" is an empty string, an unquoted empty field NULL (PostgreSQL COPY CSV)', () => {
  it("without a schema", async () => {
    const r = await run("e.csv", 'a,b,c\n"",,x\n,"",\n');
    expect(await rows(r)).toEqual([
      ["", null, "x"],
      [null, "", null],
    ]);
  });

  it('a quoted "" in a column of numbers makes it text: the empty string is not a number', async () => {
    const r = await run("n.csv", 'a,b\n1,x\n"",y\n,z\n');
    expect(r.profile?.columns[0]?.type).toBe("VARCHAR");
    expect(await rows(r)).toEqual([
      ["1", "x"],
      ["", "y"],
      [null, "z"],
    ]);
  });

  it("with a schema, on the one-pass typed path", async () => {
    const s = schema([{ name: "c", type: "string", required: true, nonEmpty: true }]);
    const r = await run("t.csv", 'a,b,c\n"",,x\n', s);
    expect(r.validation?.invalidCount).toBe(0);
    expect(await rows(r)).toEqual([["", null, "x"]]);
  });

  it("with a schema, on the staged path (an invalid row sends the file there), whatever column is last", async () => {
    const s = schema([{ name: "n", type: "integer", required: true }]);
    const r = await run("s.csv", 'n,a,b\n1,"",\n2,,""\nbad,x,y\n3,,\n', s);
    expect(r.validation?.invalidRows.map((x) => [x.row, x.error.split(":")[0]])).toEqual([[3, "non_integer_value"]]);
    expect(await rows(r)).toEqual([
      ["1", "", null],
      ["2", null, ""],
      ["3", null, null],
    ]);
  });

  it("a required string column takes an empty field (the check reads what is written); the value is NULL", async () => {
    const s = schema([{ name: "a", type: "string", required: true }]);
    const r = await run("r.csv", 'a,b\n,1\n"",2\n', s);
    expect(r.validation?.invalidCount).toBe(0);
    expect(await rows(r)).toEqual([
      [null, "1"],
      ["", "2"],
    ]);
  });
});

describe("a damaged header or a ragged row costs at most that row", () => {
  it("a header with a separator too many at its end: repaired, every row kept", async () => {
    const r = await run("h1.csv", "a,b,c,\n1,2,3\n4,5,6\n");
    expect(r.dialect?.header).toBe("repaired");
    expect(r.profile?.columns.map((c) => c.name)).toEqual(["a", "b", "c"]);
    expect(await rows(r)).toEqual([
      ["1", "2", "3"],
      ["4", "5", "6"],
    ]);
  });

  it("a header with a stray separator inside a name: generated names, every row kept", async () => {
    const r = await run("h2.csv", "id,na,me,value\n1,x,2.5\n2,y,3.5\n");
    expect(r.dialect?.header).toBe("damaged");
    expect(r.profile?.columns.map((c) => c.name)).toEqual(["column0", "column1", "column2"]);
    expect(r.profile?.rowCount).toBe(2);
  });

  it("a header with a separator too few, the rows ending in one: the last column gets a generated name", async () => {
    const r = await run("h3.csv", "a,b\n1,2,\n3,4,\n");
    expect(r.dialect?.header).toBe("repaired");
    expect(r.profile?.columns.map((c) => c.name)).toEqual(["a", "b", "column2"]);
    expect(r.profile?.rowCount).toBe(2);
  });

  it("ragged rows are listed, the others kept, in any dialect", async () => {
    const r = await run("g.csv", "a;b;c\n1;x,y;2\n3;4\n5;z;6;7\n8;w;9\n");
    expect(r.dialect?.delimiter).toBe(";");
    expect(r.validation?.invalidRows.map((x) => [x.row, x.error.split(":")[0]])).toEqual([
      [2, "missing_field"],
      [3, "extra_column"],
    ]);
    expect(await rows(r)).toEqual([
      ["1", "x,y", "2"],
      ["8", "w", "9"],
    ]);
  });
});

describe("column names: one rule for CSV headers and JSON keys", () => {
  it("control characters and lone surrogates become _, BOMs go, empty names get their position, repeats a suffix", () => {
    expect(columnNames(["a\u0000b", "a_b", "", "A_B", "\ufeffid", "x\ud800", "tab\there", "a_b_1"])).toEqual([
      "a_b",
      "a_b_1",
      "column2",
      "A_B_2",
      "id",
      "x_",
      "tab_here",
      "a_b_1_1",
    ]);
  });

  it("a CSV header goes through it: the profile keeps the header's own name as the source", async () => {
    const r = await run("names.csv", 'a,A,"x\u0001y",a\n1,2,3,4\n');
    expect(r.profile?.columns.map((c) => [c.name, c.source])).toEqual([
      ["a", undefined],
      ["A_1", "A"],
      ["x_y", "x\u0001y"],
      ["a_2", "a"],
    ]);
  });
});

describe("dialect and layout", () => {
  it("a .tsv that is comma-separated, a .csv that is tab-separated", async () => {
    expect((await run("c.tsv", "a,b\n1,2\n")).dialect?.delimiter).toBe(",");
    expect((await run("t.csv", "a\tb\n1\t2,5\n")).dialect?.delimiter).toBe("\t");
  });

  it("a one-column file stays one column whatever it holds", async () => {
    const r = await run("one.csv", "note\nhello world\nsee you; later\n");
    expect(r.profile?.columns.map((c) => c.name)).toEqual(["note"]);
    expect(await rows(r)).toEqual([["hello world"], ["see you; later"]]);
  });

  it("a schema's columns apply to a semicolon file, and to a file without a header of the schema's width", async () => {
    const s = schema([
      { name: "id", type: "integer", required: true },
      { name: "v", type: "number", required: true },
    ]);
    const a = await run("s1.csv", "id;v\n1;2.5\n2;3.5\n", s);
    expect(a.profile?.columns.map((c) => [c.name, c.type])).toEqual([
      ["id", "BIGINT"],
      ["v", "DOUBLE"],
    ]);
    const b = await run("s2.csv", "1,2.5\n2,3.5\n", s);
    expect(b.dialect?.header).toBe("absent");
    expect(await rows(b)).toEqual([
      ["1", "2.5"],
      ["2", "3.5"],
    ]);
  });
});

describe("error texts name the file, not the descriptor; rows are 1-based data rows", () => {
  it("a refusal read through /proc/self/fd/N says the staging name", async () => {
    const path = t.path("fd.csv");
    // Not one row is UTF-8: refused, at data row 1.
    writeFileSync(path, Buffer.from("id,town\n1,K\xf6ln\n", "latin1"));
    const fd = openSync(path, "r");
    try {
      const err = await convertTabular(`/proc/self/fd/${fd}`, "csv", `${path}.parquet`, {
        ...DUCK,
        displayName: "feeds/fd.csv",
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TabularError);
      expect((err as TabularError).message).not.toMatch(/\/proc\/self\/fd/);
      expect((err as TabularError).where).toEqual({ row: 1, line: 2 });
    } finally {
      closeSync(fd);
    }
  });
});
