import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import {
  type ConvertResult,
  convertTabular,
  TabularError,
  type TabularFormat,
} from "../../src/processors/tabular/index.js";
import type { FeedSchema } from "../../src/processors/validate/index.js";
import { tree, withinTime } from "./support.js";

/** DuckDB settings for the fuzz conversions: one thread each (the suite runs two files at once on two cores). */
export const DUCK = { memoryLimit: "256MB", threads: 1 };
export const CONVERT_MS = 20_000;

const CODES = new Set(["SLUICE_ERR_PARSE", "SLUICE_ERR_ENCODING", "SLUICE_ERR_NOT_TABULAR"]);
/** An invalid row's error starts with a reason code (`missing_field: …`, `invalid_json: …`). */
const REASON = /^[a-z][a-z0-9_]*: \S/;

export interface Converted {
  result: ConvertResult | null;
  error: TabularError | null;
}

const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

/**
 * Converts `content` (written as `<dir>/in/<name>`) into `<dir>/out/x.parquet`
 * with a rejects file beside it, under a time bound, and checks the contract
 * every input must meet whatever it holds:
 * - it returns, or throws a TabularError with a known code, a message and (if
 *   any) a 1-based location; never another error;
 * - a result is a Parquet with a profile, or a note saying why there is no
 *   table, or a failed validation listing every invalid row; each invalid row
 *   has a 1-based row number and a reason code;
 * - the input is not modified, nothing is written outside `out/`, and `out/`
 *   holds only the Parquet (if any) and the rejects file (if rows were rejected):
 *   no temp file, no stage, no DuckDB spill is left behind.
 */
export async function convertChecked(
  dir: string,
  name: string,
  format: TabularFormat,
  content: Buffer,
  schema: FeedSchema | null = null,
): Promise<Converted> {
  mkdirSync(join(dir, "in"));
  mkdirSync(join(dir, "out"));
  const input = join(dir, "in", name);
  writeFileSync(input, content);
  const out = join(dir, "out", "x.parquet");
  const rejects = join(dir, "out", "x.rejects.jsonl");
  let result: ConvertResult | null = null;
  let error: TabularError | null = null;
  const label = `${format} ${JSON.stringify(content.toString("latin1").slice(0, 300))}`;
  try {
    result = await withinTime(label, CONVERT_MS, () =>
      convertTabular(input, format, out, {
        ...DUCK,
        tempDirectory: join(dir, "out", "spill"),
        schema,
        rejectsPath: rejects,
      }),
    );
  } catch (err) {
    if (!(err instanceof TabularError)) {
      throw new Error(`convertTabular threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`, {
        cause: err,
      });
    }
    error = err;
  }
  if (error) {
    expect(CODES.has(error.code), error.code).toBe(true);
    expect(error.message.length).toBeGreaterThan(0);
    for (const v of [error.where?.line, error.where?.row]) if (v !== undefined) expect(v).toBeGreaterThanOrEqual(1);
  } else if (result) {
    const v = result.validation;
    if (result.parquetPath !== null) {
      expect(result.parquetPath).toBe(out);
      expect(result.profile?.rowCount).toBeGreaterThanOrEqual(0);
    } else if (v?.status !== "failed") {
      expect(result.note, "no table and no reason").toMatch(/\S/);
    }
    if (v) {
      expect(v.invalidCount).toBeGreaterThanOrEqual(v.invalidRows.length);
      for (const r of v.invalidRows) {
        expect(Number.isInteger(r.row) && r.row >= 1, `row ${r.row}`).toBe(true);
        expect(r.error).toMatch(REASON);
      }
      expect(v.status).toBe(v.invalidCount === 0 ? "processed" : v.rowCount === 0 ? "failed" : "partial");
    }
  }
  expect(sha(readFileSync(input))).toBe(sha(content));
  const wrote = new Set(["in/", `in/${name}`, "out/"]);
  if (result?.parquetPath) wrote.add("out/x.parquet");
  const rejected = (result?.validation?.invalidCount ?? 0) > 0 || error !== null;
  if (rejected) wrote.add("out/x.rejects.jsonl");
  // DuckDB creates its spill directory when it starts; it must be empty afterwards.
  wrote.add("out/spill/");
  const stray = tree(dir).filter((e) => !wrote.has(e));
  expect(stray, "written besides the Parquet and the rejects file").toEqual([]);
  return { result, error };
}
