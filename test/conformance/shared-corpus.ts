import { cpSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";

import type { ArchiveSet } from "../suites/archive-set.js";

export { invalidRowsInState, type ProcessedLine, readParquetFacts } from "../support/outputs.js";

/**
 * The shared corpus (files written by others: public SQL dumps, vega-datasets, csv-spectrum, and generated hostile
 * files), outside this repository at ../shared/corpus. Only the conformance tier (`npm run test:conformance`) reads
 * it; the main suite has fixtures of its own (test/fixtures). SLUICE_SHARED names another place for it (a clone
 * somewhere else than beside the shared data).
 */
export const SHARED = process.env.SLUICE_SHARED ?? join(import.meta.dirname, "..", "..", "..", "shared");
export const CORPUS = join(SHARED, "corpus");
if (!existsSync(CORPUS)) {
  throw new Error(
    `the conformance tier needs the shared corpus at ${CORPUS} (the shared data beside this repository, or SLUICE_SHARED)`,
  );
}

/**
 * Conformance suites written by others, unchanged (JSONTestSuite, csv-spectrum, real pg_dump/mysqldump dumps of
 * pagila and sakila), at ../shared/conformance; see its INDEX.md. Read in place, never copied into the repository.
 */
export const CONFORMANCE = join(SHARED, "conformance");
if (!existsSync(join(CONFORMANCE, "INDEX.md"))) {
  throw new Error(`the conformance tier needs the conformance suites at ${CONFORMANCE} (see its INDEX.md)`);
}

export function corpusFacts<T = Record<string, unknown>>(rel: string): Record<string, T> {
  return JSON.parse(readFileSync(join(CORPUS, rel), "utf8")) as Record<string, T>;
}

/** Copies corpus files into staging under `sub/` (their base name kept). */
export function stage(input: string, files: string[], sub = ""): void {
  mkdirSync(join(input, sub), { recursive: true });
  for (const f of files) cpSync(join(CORPUS, f), join(input, sub, basename(f)));
}

/** corpus/archives as a set for the archive suites (test/suites): what its facts do not say, from its INDEX.md. */
export const CORPUS_ARCHIVES: ArchiveSet = {
  dir: join(CORPUS, "archives"),
  gz: { file: "airports.csv.gz", member: "airports.csv", rows: 3376 },
  innerGz: "outer/inner/airports.csv.gz",
  deepMember: "level1/level2/level3/level4/sp500.csv",
  bundleMember: "bundle/csv/stocks.csv",
  okBytes: 23,
  outsideTargets: ["/tmp/corpus_evil_abs.csv", "/tmp/corpus_evil_via_symlink.csv", "/corpus_evil_drive.csv"],
};
