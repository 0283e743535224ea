import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * Two bugs the CSV fuzzing found on the validator's path for a file that
 * ends inside an unclosed quote, both fixed. One of them crashed the process,
 * so they run in a child process on the compiled code (`dist/`, built by
 * `npm run build`, which `npm test` runs first): a regression kills the child,
 * not the test worker.
 */

const REPO = join(import.meta.dirname, "..", "..");
const DIST = join(REPO, "dist", "processors");

/** Runs `body` (an ES module body with `convertTabular`, `SENSOR_READINGS`, `dir` in scope) in a fresh node process. */
function child(body: string, timeoutMs: number): { status: number | null; signal: string | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), "sluice-fuzz-native-"));
  const code = `
    import { writeFileSync } from "node:fs";
    import { join } from "node:path";
    const { convertTabular } = await import(${JSON.stringify(pathToFileURL(join(DIST, "tabular", "convert.js")).href)});
    const { SENSOR_READINGS } = await import(${JSON.stringify(pathToFileURL(join(DIST, "validate", "schema.js")).href)});
    const dir = ${JSON.stringify(dir)};
    ${body}`;
  try {
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], {
      cwd: REPO,
      encoding: "utf8",
      timeout: timeoutMs,
    });
    return { status: r.status, signal: r.signal, out: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("native: the schema path on a file ending inside an unclosed quote", () => {
  it("runs on the compiled code", () => {
    expect(existsSync(join(DIST, "tabular", "convert.js")), "run `npm run build` first (npm test does)").toBe(true);
  });

  // BUG 7 (fixed): with a schema, converting a CSV/TSV that ends inside an unclosed quote can kill the process with
  // SIGSEGV inside DuckDB (seen within 2 to 200 conversions; some conversions before the crash fail instead with
  // "Invalid unicode (byte sequence mismatch) detected" on pure-ASCII input, a sign of memory corruption).
  // Trigger: the staged read in csv-validated.ts writeStage — read_csv(..., auto_detect = false, columns = {…,
  // "__sluice_extra": sluice_never}, null_padding = true, store_rejects = true) — i.e. an ENUM-typed column with
  // store_rejects on such a file. Standalone, with @duckdb/node-api 1.5.6-r.1 only: in a loop, in a fresh
  // instance each time, `CREATE TYPE nev AS ENUM ('\x1f'); SELECT * FROM read_csv('f.csv', header = true,
  // auto_detect = false, columns = {'a': 'VARCHAR', 'b': 'VARCHAR', 'c': 'VARCHAR', 'x': 'nev'},
  // null_padding = true, store_rejects = true)` on `a,b,c\nS1,2,1\n"S` segfaults within ~1,500 iterations
  // (VARCHAR instead of the ENUM, or no store_rejects: no crash). One such file dropped in staging with
  // --schema set killed sluice; recovery retried the same file at the next start. Fix: the extra-field catcher
  // is read as VARCHAR and judged in the stage (csv-validated.ts), no ENUM anywhere.
  it("BUG 7 (fixed): 400 such conversions in one process do not crash it", () => {
    const r = child(
      `for (let i = 0; i < 400; i++) {
        const p = join(dir, "f" + i + ".csv");
        writeFileSync(p, "sensor_id,timestamp,value\\nS1,2024-03-01T00:00:00Z,1\\n\\"S" + i);
        try {
          await convertTabular(p, "csv", p + ".parquet", { memoryLimit: "256MB", threads: 1, schema: SENSOR_READINGS });
        } catch {}
      }
      console.log("survived");`,
      120_000,
    );
    expect({ status: r.status, signal: r.signal }).toEqual({ status: 0, signal: null });
  });

  // BUG 6 (fixed, by the same change: the phantom row was the ENUM's cast reject): on the same path, the invalid rows are wrong: data row k opening a quote that never closes gives a
  // phantom row k-1 "extra_column: the row has more fields than the N header columns" (row 0 when k = 1, although
  // rows are 1-based), and later rows shift. `sensor_id,timestamp,value\nS1,2024-03-01T00:00:00Z,1\n"S1` gives
  // rowCount 1 (S1 is in the Parquet) and invalid rows [1 extra_column, 2 unterminated_quote]: row 1 is both valid
  // and invalid; `a\nok\n"a` gives [1 extra_column, 2 unterminated_quote, 3 missing_field] for two data rows.
  // Without a schema: [2 unterminated_quote]. Expected: that, plus the schema's verdicts on the rows read.
  it("BUG 6 (fixed): an unclosed quote in data row 2 gives exactly one invalid row, row 2", () => {
    const r = child(
      `const p = join(dir, "q.csv");
      writeFileSync(p, 'sensor_id,timestamp,value\\nS1,2024-03-01T00:00:00Z,1\\n"S1');
      const res = await convertTabular(p, "csv", p + ".parquet", { memoryLimit: "256MB", threads: 1, schema: SENSOR_READINGS });
      console.log(JSON.stringify({ rows: res.validation.rowCount, invalid: res.validation.invalidRows.map((x) => [x.row, x.error.split(":")[0]]) }));`,
      60_000,
    );
    expect(r.status, r.out).toBe(0);
    expect(JSON.parse(r.out.trim().split("\n").pop() as string)).toEqual({
      rows: 1,
      invalid: [[2, "unterminated_quote"]],
    });
  });

  it("still reports a row with one field too many, in its place, next to the unclosed quote", () => {
    const r = child(
      `const p = join(dir, "x.csv");
      writeFileSync(p, 'sensor_id,timestamp,value\\nS1,2024-03-01T00:00:00Z,1\\nS2,2024-03-01T00:00:00Z,2,surplus\\nS3,2024-03-01T00:00:00Z,3\\n"S4');
      const res = await convertTabular(p, "csv", p + ".parquet", { memoryLimit: "256MB", threads: 1, schema: SENSOR_READINGS });
      console.log(JSON.stringify({ rows: res.validation.rowCount, invalid: res.validation.invalidRows.map((x) => [x.row, x.error]) }));`,
      60_000,
    );
    expect(r.status, r.out).toBe(0);
    const got = JSON.parse(r.out.trim().split("\n").pop() as string);
    expect(got.rows).toBe(2);
    expect(got.invalid.map((x: [number, string]) => [x[0], x[1].split(":")[0]])).toEqual([
      [2, "extra_column"],
      [4, "unterminated_quote"],
    ]);
    expect(got.invalid[0][1]).toBe("extra_column: the row has more fields than the 3 header columns");
  });
});
