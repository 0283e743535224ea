import { describe, expect, it } from "vitest";
import { sqlString } from "../../src/processors/tabular/duckdb-session.js";
import { type ConvertResult, TabularError, tabularFormatOf } from "../../src/processors/tabular/index.js";
import { JsonSyntax } from "../../src/processors/tabular/json-syntax.js";
import { useTabularHarness } from "../support/tabular-harness.js";

const t = useTabularHarness("sluice-tabular-edge-");

const run = t.run;

async function column(r: ConvertResult, name: string): Promise<unknown[]> {
  const sql = `SELECT ${name} AS v FROM read_parquet(${sqlString(r.parquetPath as string)})`;
  return (await t.reader.conn.runAndReadAll(sql)).getRowObjectsJS().map((x) => x.v);
}

describe("format by extension", () => {
  it("recognises the tabular extensions in any case, and nothing else", () => {
    expect(
      ["a.csv", "b.TSV", "c.Json", "d.jsonl", "e.NDJSON", "f.txt", "csv", "g.csv.gz"].map(tabularFormatOf),
    ).toEqual(["csv", "tsv", "json", "jsonl", "jsonl", null, null, null]);
  });
});

describe("CSV without a schema", () => {
  it("a type the sniffer guessed from the first rows is widened when a later row contradicts it: no row lost", async () => {
    const body = Array.from({ length: 30_000 }, (_, i) => `${i},x`).join("\n");
    const r = await run("wide.csv", `n,s\n${body}\nabc,y\n`);
    expect(r.validation).toBeUndefined();
    expect(r.profile?.rowCount).toBe(30_001);
    expect(r.profile?.columns[0]).toMatchObject({ name: "n", type: "VARCHAR" });
  });

  it("'#' starts no comment: such rows are data", async () => {
    const r = await run("hash.csv", "tag,n\n#a,1\n#b,2\nc,3\n");
    expect(await column(r, "tag")).toEqual(["#a", "#b", "c"]);
  });

  it("blank lines before the header are skipped; unquoted names are trimmed", async () => {
    const r = await run("lead.csv", '\n\n  a , "b c" \n1,2\n3,4,5\n');
    expect(r.profile?.columns.map((c) => c.name)).toEqual(["a", "b c"]);
    // Data-row numbers do not count the skipped lines.
    expect(r.validation?.invalidRows).toEqual([
      { row: 2, error: "extra_column: the row has more fields than the 2 header columns" },
    ]);
  });

  it("UTF-16 big-endian is refused with an encoding error", async () => {
    const be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from("a\n1\n", "utf16le").swap16()]);
    const err = await run("be.csv", be).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TabularError);
    expect(err).toMatchObject({ code: "SLUICE_ERR_ENCODING", where: { line: 1 } });
  });

  it("an unclosed quote in the header is a parse error at its line", async () => {
    const err = await run("hq.csv", '\na,"b\n1,2\n').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "SLUICE_ERR_PARSE", where: { line: 2 } });
  });
});

describe("JSON without a schema", () => {
  it("mixed value types in a key give a JSON column rather than lost rows", async () => {
    const r = await run(
      "wide.json",
      JSON.stringify([...Array.from({ length: 30_000 }, (_, i) => ({ a: i })), { a: "x" }]),
    );
    expect(r.profile?.rowCount).toBe(30_001);
  });

  it("empty arrays, arrays of scalars and blank JSONL files are not tables", async () => {
    expect((await run("e.json", "[]")).note).toMatch(/array is empty/);
    expect((await run("s.json", "[1, 2]")).note).toMatch(/element 1 .* not an object/);
    expect((await run("b.jsonl", "\n  \n")).note).toMatch(/no records/);
    expect((await run("n.jsonl", "1\n[2]\n")).note).toMatch(/no line holds a JSON object/);
  });

  it("records nested deeper than 64 levels are not converted", async () => {
    const deep = `[${'{"a":'.repeat(70)}1${"}".repeat(70)}]`;
    expect((await run("deep.json", deep)).note).toMatch(/nested deeper than 64/);
  });
});

describe("the strict JSON checker", () => {
  const check = (input: string | Buffer): string | null => {
    const syn = new JsonSyntax();
    syn.feed(typeof input === "string" ? Buffer.from(input) : input);
    syn.end();
    return syn.error;
  };

  it("accepts RFC 8259 JSON, in any chunking", () => {
    const doc = '{"a": [1, -0.5e+3, "x\\u00e9\\n", true, false, null, {}, []], "b": "ü"}';
    expect(check(doc)).toBeNull();
    const syn = new JsonSyntax();
    for (const b of Buffer.from(doc)) syn.feed(Uint8Array.of(b));
    expect(syn.end()).toBe(true);
  });

  it("rejects what lenient parsers take", () => {
    for (const bad of [
      "[1,]",
      "{'a': 1}",
      "[01]",
      "[1.]",
      "[.5]",
      "[NaN]",
      "[-Infinity]",
      '["a\tb"]',
      "[1] [2]",
      '{"a" 1}',
      "[tru]",
    ]) {
      expect(check(bad), bad).not.toBeNull();
    }
    expect(check(Buffer.from([0x5b, 0x22, 0xff, 0x22, 0x5d]))).toBe("invalid UTF-8 in a string");
  });

  it("follows 100,000 levels of nesting without recursion", () => {
    expect(check(`${"[".repeat(100_000)}${"]".repeat(100_000)}`)).toBeNull();
    expect(check(`${"[".repeat(100_000)}${"]".repeat(99_999)}`)).toBe("unexpected end of data");
  });
});
