import { cpSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";

export { invalidRowsInState, type ProcessedLine, readParquetFacts } from "../support/outputs.js";

/**
 * The shared corpus (files written by others: public SQL dumps, vega-datasets, csv-spectrum, and generated hostile
 * files), outside this repository at ../shared/corpus. Only the conformance tier (`npm run test:conformance`) reads
 * it; the main suite has fixtures of its own (test/fixtures).
 */
export const SHARED = join(import.meta.dirname, "..", "..", "..", "shared");
export const CORPUS = join(SHARED, "corpus");
if (!existsSync(CORPUS)) {
  throw new Error(
    `the conformance tier needs the shared corpus at ${CORPUS} (a checkout of the shared data beside this repository)`,
  );
}

export function corpusFacts<T = Record<string, unknown>>(rel: string): Record<string, T> {
  return JSON.parse(readFileSync(join(CORPUS, rel), "utf8")) as Record<string, T>;
}

/** Copies corpus files into staging under `sub/` (their base name kept). */
export function stage(input: string, files: string[], sub = ""): void {
  mkdirSync(join(input, sub), { recursive: true });
  for (const f of files) cpSync(join(CORPUS, f), join(input, sub, basename(f)));
}
