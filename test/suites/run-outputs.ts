import { expect } from "vitest";
import { type ProcessedLine, readParquetFacts } from "../support/outputs.js";
import { lineFor } from "./processing-suite.js";
import { outputTableName } from "./sql-dump-suite.js";

/**
 * What `sluice run` must have written for staged tabular files and SQL dumps, checked from its manifest lines
 * against per-file facts. Used by the main suite (generated fixtures) and the conformance tier (the shared corpus).
 */

export interface OutputFacts {
  rows?: number;
  valid_lines?: number;
  columns?: string[];
  /** "dict" for a JSON document that is one object. */
  top_level?: string;
}

/**
 * Each file (by its manifest name) has one Parquet with the facts' rows and columns (in any order for JSON, whose
 * records need not share a key order); a file without rows in its facts is a document that is no table: ingested
 * as is, no Parquet, and a note saying so.
 */
export async function expectTableOutputs(lines: ProcessedLine[], files: [string, OutputFacts][]): Promise<void> {
  for (const [name, f] of files) {
    const line = lineFor(lines, name);
    const out = line.processing?.outputs.find((o) => o.kind === "parquet");
    const rows = f.rows ?? f.valid_lines;
    if (rows === undefined) {
      expect(line.status, name).toBe("ingested");
      expect(out, name).toBeUndefined();
      expect(line.processing?.note, name).toMatch(/not a table/);
      continue;
    }
    expect(out, `${name}: ${JSON.stringify(line.processing)}`).toBeDefined();
    const pq = await readParquetFacts(out?.path as string);
    const json = /\.json(l)?$/.test(name);
    const order = (c: string[] | undefined) => (json && c ? [...c].sort() : c);
    expect({ name, rows: pq.rows, columns: order(pq.columns) }).toEqual({
      name,
      rows,
      columns: f.columns ? order(f.columns) : order(pq.columns),
    });
    expect(out?.row_count, name).toBe(rows);
  }
}

/** The manifest's profile of a code column (leading zeros): text, with its null count, min and max. */
export async function expectCodeColumn(
  lines: ProcessedLine[],
  name: string,
  code: { name: string; null_count: number; min: string; max: string },
): Promise<void> {
  const out = lineFor(lines, name).processing?.outputs.find((o) => o.kind === "parquet");
  const profile = out?.columns?.find((c) => c.name === code.name);
  expect(profile, name).toEqual({ ...code, type: "VARCHAR" });
  const pq = await readParquetFacts(out?.path as string);
  expect(pq.types[pq.columns.indexOf(code.name)], name).toBe("VARCHAR");
}

/** Each dump (by manifest name) went through the sql-dump processor: one Parquet per table that has rows. */
export async function expectDumpOutputs(
  lines: ProcessedLine[],
  dumps: [string, { tables: Record<string, { rows: number; name_in_file?: string }> }][],
): Promise<void> {
  for (const [name, f] of dumps) {
    const p = lineFor(lines, name).processing;
    expect(p?.processor, name).toBe("sql-dump");
    const got: Record<string, number> = {};
    for (const o of p?.outputs ?? []) got[o.table as string] = (await readParquetFacts(o.path)).rows;
    const want: Record<string, number> = {};
    for (const [t, v] of Object.entries(f.tables)) if (v.rows > 0) want[outputTableName(t, v)] = v.rows;
    expect({ name, tables: got }).toEqual({ name, tables: want });
  }
}
