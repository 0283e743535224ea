import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DuckSession, openDuck } from "../../src/processors/tabular/duckdb-session.js";
import { type ConvertResult, convertTabular, type TabularFormat } from "../../src/processors/tabular/index.js";
import { WarmDuck } from "../../src/processors/tabular/warm-duck.js";
import { type FeedSchema, SENSOR_READINGS } from "../../src/processors/validate/schema.js";
import { DUCK } from "../support/tabular-harness.js";

// The run's shared DuckDB (warm-duck.ts) must give every file exactly what a DuckDB of its own gave it: same
// Parquet rows, profile, validation, dialect and rejects, whatever the files before it held or failed on.

interface Case {
  name: string;
  format: TabularFormat;
  content: string;
  schema: FeedSchema | null;
}

const sensors = (n: number, bad = false): string => {
  let s = "sensor_id,timestamp,value\n";
  for (let i = 0; i < n; i++) {
    const v = bad && i % 7 === 3 ? "n/a" : (i * 1.7 - 20).toFixed(1);
    s += `S${String(1 + (i % 13)).padStart(2, "0")},2024-03-01T00:${String(Math.floor(i / 60) % 60).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}Z,${v}\n`;
  }
  return s;
};

// Each differs from the one before in what it leaves in a connection: rejects tables, widened types, a footer's
// sniff, JSON's skipped table, a schema's staged tables, an empty file.
const CASES: Case[] = [
  { name: "a.csv", format: "csv", content: sensors(120), schema: null },
  { name: "b.csv", format: "csv", content: sensors(120, true), schema: null },
  { name: "c.csv", format: "csv", content: sensors(120, true), schema: SENSOR_READINGS },
  { name: "d.csv", format: "csv", content: "id,code\n1,00501\n2,x\n3,7,extra\n4,\n", schema: null },
  { name: "e.tsv", format: "tsv", content: "a\tb\n1\t2024-01-01\n2\tlater\n", schema: null },
  { name: "f.csv", format: "csv", content: "x,y\n1,2\n3,4\nTotal rows: 2\n", schema: null },
  { name: "g.json", format: "json", content: '[{"a":1,"b":"x"},{"a":2,"c":[1,2]}]', schema: null },
  { name: "h.jsonl", format: "jsonl", content: '{"a":1}\n{oops}\n{"a":3,"b":true}\n', schema: null },
  {
    name: "i.jsonl",
    format: "jsonl",
    content: '{"sensor_id":"S1","timestamp":"2024-03-01T00:00:00Z","value":1.5}\n{"sensor_id":"","value":"x"}\n',
    schema: SENSOR_READINGS,
  },
  { name: "j.csv", format: "csv", content: "", schema: null },
  { name: "k.csv", format: "csv", content: sensors(120), schema: SENSOR_READINGS },
  { name: "a2.csv", format: "csv", content: sensors(120), schema: null },
];

let dir = "";
let reader: DuckSession | undefined;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sluice-warm-duck-"));
  reader = await openDuck(DUCK);
});
afterAll(async () => {
  reader?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Outcome {
  result: ConvertResult | { error: string };
  rows: unknown[];
  rejects: string | null;
}

/** Converts `c` in its own directory under `sub`; the result with paths made relative, its rows and rejects. */
async function convert(sub: string, c: Case, duck?: WarmDuck): Promise<Outcome> {
  const d = join(dir, sub, c.name.replace(".", "_"));
  mkdirSync(d, { recursive: true });
  const input = join(d, c.name);
  writeFileSync(input, c.content);
  const out = join(d, "table.parquet");
  const rejectsPath = join(d, "rejects.jsonl");
  let result: ConvertResult | { error: string };
  try {
    result = await convertTabular(input, c.format, out, {
      ...DUCK,
      schema: c.schema,
      rejectsPath,
      displayName: c.name,
      ...(duck ? { duck } : {}),
    });
  } catch (err) {
    result = { error: `${(err as Error).constructor.name}: ${(err as Error).message}` };
  }
  let rows: unknown[] = [];
  if ("parquetPath" in result && result.parquetPath) {
    const r = await (reader as DuckSession).conn.runAndReadAll(`SELECT * FROM read_parquet('${out}')`);
    rows = r.getRowsJS();
    result = { ...result, parquetPath: "table.parquet" };
  }
  const rejects = existsSync(rejectsPath) ? readFileSync(rejectsPath, "utf8") : null;
  return { result, rows, rejects };
}

describe("a warm DuckDB shared by conversions", () => {
  it("gives every file what a DuckDB of its own gives it (rows, profile, validation, rejects)", async () => {
    const fresh: Outcome[] = [];
    for (const c of CASES) fresh.push(await convert("fresh", c));
    const duck = new WarmDuck();
    try {
      // Twice over: the second round meets an instance that every kind of file has already used.
      for (const round of [1, 2]) {
        for (const [i, c] of CASES.entries()) {
          expect(await convert(`warm${round}`, c, duck), `${c.name}, round ${round}`).toEqual(fresh[i]);
        }
      }
      expect(duck.isOpen).toBe(true);
    } finally {
      duck.close();
    }
    // The cases are not trivially alike: they cover rejects, a schema's verdicts, notes and JSON.
    expect(fresh.filter((o) => o.rejects !== null).length).toBeGreaterThanOrEqual(3);
    expect(fresh.some((o) => "note" in o.result && o.result.note)).toBe(true);
    expect(fresh.filter((o) => o.rows.length > 0).length).toBeGreaterThanOrEqual(9);
  });

  it("leaves no table of one file in the instance for the next", async () => {
    const duck = new WarmDuck();
    try {
      await convert("leak", CASES[1] as Case, duck);
      await convert("leak", CASES[2] as Case, duck);
      const s = await duck.session(DUCK);
      try {
        const tables = await s.conn.runAndReadAll("SELECT database_name, schema_name, table_name FROM duckdb_tables()");
        const views = await s.conn.runAndReadAll("SELECT view_name FROM duckdb_views() WHERE NOT internal");
        expect(tables.getRowsJS()).toEqual([]);
        expect(views.getRowsJS()).toEqual([]);
      } finally {
        s.close();
      }
    } finally {
      duck.close();
    }
  });

  it("throws the instance away after a failure that is not the file's, and converts the next file on a new one", async () => {
    const duck = new WarmDuck();
    try {
      const c = CASES[0] as Case;
      const d = join(dir, "poison");
      mkdirSync(d, { recursive: true });
      const input = join(d, c.name);
      writeFileSync(input, c.content);
      // DuckDB cannot write the Parquet (no such directory): an I/O error, not a verdict on the file.
      const failed = convertTabular(input, c.format, join(d, "missing-dir", "t.parquet"), { ...DUCK, duck });
      await expect(failed).rejects.toThrow(/IO Error|No such file/i);
      expect(duck.isOpen).toBe(false);
      expect(await convert("after-poison", c, duck)).toEqual(await convert("after-poison-fresh", c));
      expect(duck.isOpen).toBe(true);
      // A file's own fault (nothing readable) keeps the instance.
      const broken: Case = { name: "x.json", format: "json", content: "[{", schema: null };
      const r = await convert("content-error", broken, duck);
      expect(r.result).toMatchObject({ error: expect.stringMatching(/^TabularError/) });
      expect(duck.isOpen).toBe(true);
    } finally {
      duck.close();
    }
  });

  it("renews the instance after 500 conversions (what an instance keeps stays bounded)", async () => {
    const duck = new WarmDuck();
    const marked = async (): Promise<boolean> => {
      const s = await duck.session(DUCK);
      try {
        const r = await s.conn.runAndReadAll("SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'marker'");
        return Number(r.getRowObjectsJS()[0]?.n) > 0;
      } finally {
        s.close();
      }
    };
    try {
      // A table of the main schema outlives its connection: it shows which instance a session is on.
      const first = await duck.session(DUCK);
      await first.conn.run("CREATE TABLE marker (x INTEGER)");
      first.close();
      for (let i = 2; i <= 500; i++) expect(await marked(), `session ${i}`).toBe(true);
      expect(await marked()).toBe(false);
    } finally {
      duck.close();
    }
  });

  it("opens another instance when the options change, and closes at shutdown only once the conversion in hand is done", async () => {
    const duck = new WarmDuck();
    const threads = async (s: DuckSession) =>
      Number((await s.conn.runAndReadAll("SELECT current_setting('threads') AS t")).getRowObjectsJS()[0]?.t);
    const one = await duck.session({ ...DUCK, threads: 1 });
    expect(await threads(one)).toBe(1);
    const two = await duck.session({ ...DUCK, threads: 2 });
    expect(await threads(two)).toBe(2);
    // The first instance was retired but is still lent out: its connection keeps working until closed.
    expect(await threads(one)).toBe(1);
    one.close();
    duck.close();
    expect(duck.isOpen).toBe(false);
    expect(await threads(two)).toBe(2);
    two.close();
    // After shutdown a straggler still gets a DuckDB (its own), and nothing stays open.
    const late = await duck.session(DUCK);
    expect(await threads(late)).toBe(2);
    late.close();
    expect(duck.isOpen).toBe(false);
  });
});
