import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DuckSession, openDuck, sqlString } from "../../src/processors/tabular/duckdb-session.js";
import { convertTabular } from "../../src/processors/tabular/index.js";
import { runOnce } from "../support/cli.js";
import { argsFor, readState, type StateRow, useSandboxes } from "../support/fixtures.js";
import { type JsonNode, jsonDifference, parseJsonNode } from "./lib/json-values.js";
import {
  accepted,
  describeOutcome,
  documentedOutcomes,
  type Outcome,
  outcomeLabel,
  outcomeOf,
  summaryBlock,
} from "./lib/outcomes.js";
import { CONFORMANCE } from "./shared-corpus.js";

/**
 * JSONTestSuite (nst/JSONTestSuite, test_parsing/, read in place from ../shared/conformance/json): every file
 * through sluice's JSON path, judged by the suite's own expectation (the first letter of its name):
 * `y_` accepted (a table, or a valid document that is no table kept raw with a note), `n_` refused (quarantined as
 * SLUICE_ERR_PARSE or SLUICE_ERR_ENCODING, with a reason), `i_` either, as docs/conformance.md records it.
 * Then each `y_` document wrapped as `[{"v": …}]` goes through DuckDB into Parquet and must read back equal to
 * `JSON.parse` of it (equality as defined in lib/json-values.ts), and the whole set once through `sluice run`.
 */

const DIR = join(CONFORMANCE, "json", "test_parsing");
const FILES = readdirSync(DIR)
  .filter((f) => /^[yni]_.*\.json$/.test(f))
  .sort();
const Y = FILES.filter((f) => f.startsWith("y_"));
// One thread: the tier shares a 2-core machine with other suites, and these files are small.
const DUCK = { memoryLimit: "256MB", threads: 1 };
const ENCODING_OR_PARSE = new Set(["SLUICE_ERR_PARSE", "SLUICE_ERR_ENCODING"]);

type Pass = "y" | "n" | "i" | "wrapped" | "cli";
const LABELS: Record<Pass, string> = {
  y: "y_ (must be accepted), convertTabular",
  n: "n_ (must be refused), convertTabular",
  i: "i_ (either; as docs/conformance.md records), convertTabular",
  wrapped: 'y_ wrapped as [{"v": …}], DuckDB -> Parquet -> read back, equal to JSON.parse',
  cli: "all files through `sluice run`, judged the same way",
};
const tally = Object.fromEntries(
  (Object.keys(LABELS) as Pass[]).map((p) => [p, { run: 0, deviations: [] as string[] }]),
) as Record<Pass, { run: number; deviations: string[] }>;
/** What the direct conversion did with each file: the CLI must agree; the i_ ones are printed for the docs table. */
const direct = new Map<string, Outcome>();

let dir: string;
let reader: DuckSession;
let documented: Map<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sluice-json-suite-"));
  reader = await openDuck(DUCK);
  documented = documentedOutcomes();
});

afterAll(async () => {
  reader?.close();
  await rm(dir, { recursive: true, force: true });
  const rows = (Object.keys(LABELS) as Pass[]).map((p) => ({
    label: LABELS[p],
    run: tally[p].run,
    ok: tally[p].run - tally[p].deviations.length,
    deviations: tally[p].deviations,
  }));
  const lines = [summaryBlock(`JSONTestSuite test_parsing: ${FILES.length} files (${DIR})`, rows)];
  const observedI = [...direct].filter(([f]) => f.startsWith("i_"));
  if (observedI.some(([f, o]) => documented.get(f) !== outcomeLabel(o))) {
    lines.push("  i_ outcomes as observed (for docs/conformance.md):");
    for (const [f, o] of observedI) lines.push(`    | \`${f}\` | ${outcomeLabel(o)} | ${describeOutcome(o)} |`);
  }
  console.log(lines.join("\n"));
});

/** Records the case and returns the deviation (null when the outcome is what the suite expects). */
function judge(pass: Pass, file: string, o: Outcome): string | null {
  const kind = file.slice(0, 1);
  let why: string | null = null;
  if (o.kind === "crashed") why = `crashed instead of accepting or refusing: ${o.error}`;
  else if (kind === "y" && !accepted(o)) why = `must be accepted; ${describeOutcome(o)}`;
  else if (kind === "n" && !(o.kind === "refused" && ENCODING_OR_PARSE.has(o.code) && o.reason.trim() !== "")) {
    why = `must be refused as SLUICE_ERR_PARSE or SLUICE_ERR_ENCODING with a reason; ${describeOutcome(o)}`;
  } else if (kind === "i") {
    const doc = documented.get(file);
    if (doc === undefined) why = `not recorded in docs/conformance.md (sluice: ${outcomeLabel(o)})`;
    else if (doc !== outcomeLabel(o)) why = `docs/conformance.md says "${doc}"; ${describeOutcome(o)}`;
  }
  tally[pass].run++;
  if (why) tally[pass].deviations.push(`${file}: ${why}`);
  return why;
}

let outputs = 0;
async function convert(path: string): Promise<Outcome> {
  try {
    return outcomeOf(await convertTabular(path, "json", join(dir, `out${++outputs}.parquet`), DUCK));
  } catch (err) {
    return outcomeOf(err);
  }
}

describe("every test_parsing file through convertTabular: y_ accepted, n_ refused, i_ as documented", () => {
  it.each(FILES)("%s", async (file) => {
    const o = await convert(join(DIR, file));
    const kind = file.startsWith("y_") ? "y" : file.startsWith("n_") ? "n" : "i";
    direct.set(file, o);
    expect(judge(kind, file, o), file).toBeNull();
  });
});

/** The first difference between the document and what the Parquet holds for it, or null. */
async function wrappedDifference(file: string): Promise<string | null> {
  const raw = readFileSync(join(DIR, file));
  const path = join(dir, `wrapped_${file}`);
  writeFileSync(path, Buffer.concat([Buffer.from('[{"v": '), raw, Buffer.from("}]")]));
  const want = parseJsonNode(raw.toString("utf8"));
  let parquet: string | null;
  try {
    const r = await convertTabular(path, "json", `${path}.parquet`, DUCK);
    parquet = r.parquetPath;
    if (!parquet) return `the wrapped document gave no table: ${describeOutcome(outcomeOf(r))}`;
  } catch (err) {
    return `the wrapped document was not converted: ${describeOutcome(outcomeOf(err))}`;
  }
  const src = `read_parquet(${sqlString(parquet)}, hive_partitioning = false)`;
  const cols = (await reader.conn.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRowObjectsJS();
  const names = cols.map((c) => String(c.column_name));
  if (names.length !== 1 || names[0] !== "v") return `columns read back ${JSON.stringify(names)}, expected ["v"]`;
  const type = String(cols[0]?.column_type);
  // to_json renders every DuckDB type as JSON text (numbers with all their digits), so the tree can be rebuilt.
  const rows = (await reader.conn.runAndReadAll(`SELECT to_json(v)::VARCHAR AS j FROM ${src}`)).getRowObjectsJS();
  if (rows.length !== 1) return `${rows.length} rows read back, expected 1`;
  const j = rows[0]?.j;
  let got: JsonNode;
  try {
    got = j === null || j === undefined ? { t: "null" } : parseJsonNode(String(j));
  } catch {
    return `read back as ${type}, whose JSON text is not JSON: ${String(j).slice(0, 120)}`;
  }
  const d = jsonDifference(want, got);
  return d ? `${d} (Parquet column type ${type})` : null;
}

describe('each y_ document wrapped as [{"v": <document>}] reads back from the Parquet equal to JSON.parse', () => {
  it.each(Y)("%s", async (file) => {
    const why = await wrappedDifference(file);
    tally.wrapped.run++;
    if (why) tally.wrapped.deviations.push(`${file}: ${why}`);
    expect(why, file).toBeNull();
  });
});

/** What `sluice run` did with a file, from the state database (a duplicate: what it did with the original). */
function cliOutcome(files: StateRow[], name: string): Outcome {
  let row = files.find((f) => f.name === name);
  if (row?.state === "duplicate") row = files.find((f) => f.ingest_id === row?.duplicate_of);
  if (!row) return { kind: "crashed", error: "no state row" };
  if (row.state === "failed") {
    return { kind: "refused", code: row.error_code ?? "(no code)", reason: row.error_message ?? "" };
  }
  if (row.state !== "done") return { kind: "crashed", error: `left in state ${row.state}` };
  const p = JSON.parse(row.processing ?? "{}") as { note?: string; outputs?: { kind: string }[] };
  const table = p.outputs?.some((o) => o.kind === "parquet");
  return table ? { kind: "table", rows: -1 } : { kind: "note", note: p.note ?? "(no note)" };
}

describe("the same files through `sluice run`", () => {
  const sandbox = useSandboxes();

  it("each file is ingested or quarantined as the suite expects, and as the direct conversion did", async () => {
    const s = sandbox();
    mkdirSync(s.input, { recursive: true });
    for (const f of FILES) copyFileSync(join(DIR, f), join(s.input, f));
    const r = await runOnce(argsFor(s, "--stability-seconds", "0"), { timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    const files = readState(s.statePath).files;
    const problems: string[] = [];
    for (const f of FILES) {
      const o = cliOutcome(files, f);
      const why = judge("cli", f, o);
      if (why) problems.push(`${f}: ${why}`);
      // The pipeline must not judge a file otherwise than its converter (when the direct pass ran in this process).
      const d = direct.get(f);
      if (d && outcomeLabel(d) !== outcomeLabel(o)) {
        const differs = `sluice run: ${describeOutcome(o)}; convertTabular: ${describeOutcome(d)}`;
        problems.push(`${f}: ${differs}`);
        if (!why) tally.cli.deviations.push(`${f}: ${differs}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
