import { copyFileSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DuckSession, openDuck, sqlString } from "../../src/processors/tabular/duckdb-session.js";
import { type ConvertResult, convertTabular } from "../../src/processors/tabular/index.js";
import { lineFor } from "../suites/processing-suite.js";
import { runOnce } from "../support/cli.js";
import { argsFor, useSandboxes } from "../support/fixtures.js";
import type { ProcessedLine } from "../support/outputs.js";
import { readManifest } from "../support/sandbox.js";
import { describeOutcome, outcomeOf, summaryBlock } from "./lib/outcomes.js";
import { CONFORMANCE } from "./shared-corpus.js";

/**
 * csv-spectrum (max-mapper/csv-spectrum, read in place from ../shared/conformance/csv): each CSV converted by
 * sluice, every cell compared as text with the rows the suite's json/ file says it must give (all strings there).
 * A typed column compares by its text form, so `08123` read as the number 8123 is a deviation; NULL is never equal
 * to "", so the quoted empty fields of empty.csv must come back as empty strings (issue 16, point 5).
 */

const CSVS = join(CONFORMANCE, "csv", "csvs");
const EXPECTED = join(CONFORMANCE, "csv", "json");
const CASES = readdirSync(CSVS)
  .filter((f) => f.endsWith(".csv"))
  .sort();
const DUCK = { memoryLimit: "256MB", threads: 1 };

/**
 * Faults of the suite itself (see ../shared/conformance/INDEX.md): the cell its json/ file gets wrong and what the
 * CSV really holds there. Such a cell is checked against the CSV and counted as a suite error, not a deviation.
 */
const SUITE_ERRORS: Record<string, { row: number; column: string; csvHolds: string; why: string }[]> = {
  "location_coordinates.csv": [
    {
      row: 1,
      column: "Contact Phone Number",
      csvHolds: "2095257564",
      why: "json/location_coordinates.json expects 1234567890, the CSV holds 2095257564",
    },
  ],
};

type Row = Record<string, string>;

/** The suite's rows for a CSV. location_coordinates.json is one object instead of an array of one: taken as such. */
function expectedRows(csv: string): Row[] {
  const doc = JSON.parse(readFileSync(join(EXPECTED, csv.replace(/\.csv$/, ".json")), "utf8")) as Row[] | Row;
  return Array.isArray(doc) ? doc : [doc];
}

interface Tally {
  /** CSV files judged (the CLI pass judges all 12 in one test). */
  run: number;
  cells: number;
  suiteErrors: string[];
  deviations: string[];
}
const direct: Tally = { run: 0, cells: 0, suiteErrors: [], deviations: [] };
const cli: Tally = { run: 0, cells: 0, suiteErrors: [], deviations: [] };

let dir: string;
let reader: DuckSession;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sluice-csv-spectrum-"));
  reader = await openDuck(DUCK);
});

afterAll(async () => {
  reader?.close();
  await rm(dir, { recursive: true, force: true });
  const block = (t: Tally, label: string) => ({
    label: `${label}: ${t.cells} cells compared, ${t.suiteErrors.length} suite error(s) [${t.suiteErrors.join("; ")}]`,
    run: t.run,
    ok: t.run - new Set(t.deviations.map((d) => d.split(":")[0])).size,
    deviations: t.deviations,
  });
  console.log(
    summaryBlock(`csv-spectrum: ${CASES.length} CSV files (${CSVS})`, [
      block(direct, "convertTabular"),
      block(cli, "sluice run"),
    ]),
  );
});

/**
 * Every difference between the Parquet and the suite's rows, each naming the case, the row (1-based data row),
 * the column, the expected text and the text read back. Suite errors are checked against the CSV instead.
 */
async function differences(csv: string, parquet: string, t: Tally): Promise<string[]> {
  const want = expectedRows(csv);
  const src = `read_parquet(${sqlString(parquet)}, hive_partitioning = false)`;
  const cols = (await reader.conn.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRowObjectsJS();
  const names = cols.map((c) => String(c.column_name));
  const types = new Map(cols.map((c) => [String(c.column_name), String(c.column_type)]));
  const out: string[] = [];
  const header = Object.keys(want[0] ?? {});
  if (JSON.stringify(names) !== JSON.stringify(header)) {
    out.push(`${csv}: header ${JSON.stringify(header)} read back as columns ${JSON.stringify(names)}`);
  }
  // Cast in DuckDB, so a typed column is compared by the text DuckDB gives it (what any reader of the Parquet sees).
  const select = names.map((n, i) => `${sqlIdentOf(n)}::VARCHAR AS c${i}`).join(", ");
  const got = (await reader.conn.runAndReadAll(`SELECT ${select} FROM ${src}`)).getRowObjectsJS();
  if (got.length !== want.length) out.push(`${csv}: ${want.length} rows expected, ${got.length} read back`);
  for (let r = 0; r < Math.min(got.length, want.length); r++) {
    for (const column of header) {
      const i = names.indexOf(column);
      const value = i < 0 ? undefined : (got[r]?.[`c${i}`] as string | null);
      const fault = SUITE_ERRORS[csv]?.find((e) => e.row === r + 1 && e.column === column);
      const expected = fault ? fault.csvHolds : (want[r]?.[column] as string);
      t.cells++;
      if (value === expected) {
        if (fault) t.suiteErrors.push(`${csv} row ${r + 1} ${column}: ${fault.why}`);
        continue;
      }
      const shown = value === undefined ? "(no such column)" : value === null ? "NULL" : JSON.stringify(value);
      out.push(
        `${csv}: row ${r + 1}, column ${JSON.stringify(column)} (${types.get(column) ?? "-"}): expected ` +
          `${JSON.stringify(expected)}, read back ${shown}`,
      );
    }
  }
  return out;
}

function sqlIdentOf(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

describe("each csv-spectrum CSV through convertTabular gives the suite's rows, cell for cell as text", () => {
  it.each(CASES)("%s", async (csv) => {
    direct.run++;
    let r: ConvertResult;
    try {
      r = await convertTabular(join(CSVS, csv), "csv", join(dir, `${csv}.parquet`), DUCK);
    } catch (err) {
      direct.deviations.push(`${csv}: not converted: ${describeOutcome(outcomeOf(err))}`);
      throw err;
    }
    const found: string[] = [];
    if (!r.parquetPath) found.push(`${csv}: no table: ${describeOutcome(outcomeOf(r))}`);
    else {
      if (r.validation && r.validation.invalidCount > 0) {
        const first = r.validation.invalidRows.slice(0, 3).map((x) => `row ${x.row}: ${x.error}`);
        found.push(`${csv}: ${r.validation.invalidCount} row(s) listed as invalid (${first.join("; ")})`);
      }
      found.push(...(await differences(csv, r.parquetPath, direct)));
    }
    direct.deviations.push(...found);
    expect(found).toEqual([]);
  });
});

describe("the same CSVs through `sluice run`", () => {
  const sandbox = useSandboxes();

  it("each is processed without invalid rows, and its Parquet holds the suite's rows", async () => {
    const s = sandbox();
    mkdirSync(s.input, { recursive: true });
    for (const f of CASES) copyFileSync(join(CSVS, f), join(s.input, f));
    const r = await runOnce(argsFor(s, "--stability-seconds", "0"), { timeoutMs: 180_000 });
    expect(r.code, r.stderr).toBe(0);
    const lines = readManifest(s.manifests) as ProcessedLine[];
    const found: string[] = [];
    for (const csv of CASES) {
      cli.run++;
      const line = lines.find((l) => l.name === csv) ? lineFor(lines, csv) : undefined;
      const p = line?.processing;
      const out = p?.outputs.find((o) => o.kind === "parquet");
      if (!p || !out) {
        found.push(`${csv}: no Parquet (${line ? JSON.stringify(p) : "not ingested: no manifest line"})`);
        continue;
      }
      if (p.status !== "processed") found.push(`${csv}: status ${p.status}, ${p.invalid_count ?? 0} invalid row(s)`);
      found.push(...(await differences(csv, out.path, cli)));
    }
    cli.deviations.push(...found);
    expect(found).toEqual([]);
  });
});
