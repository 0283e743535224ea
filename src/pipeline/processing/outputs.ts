import { chmodSync, readdirSync, renameSync } from "node:fs";
import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { collisionName, lastSegment, OUTPUT_SUFFIX, siblingPath } from "../../warehouse/warehouse-paths.js";
import type { IngestContext } from "../context.js";
import { retryUntilDone } from "../retry.js";
import { uploadOutputs } from "./upload-outputs.js";

/** A processor's output, written in the temp area, and where it goes beside the raw file. */
export interface PlannedOutput {
  tmp: string;
  final: string;
  /** A directory (one Parquet per table of a SQL dump) rather than a file. */
  dir?: boolean;
}

/**
 * `NAME.parquet` beside `NAME`, unless another raw file has reserved that name
 * (someone dropped `x.csv.parquet` the same day): then the content-tagged
 * name, as for raw files. Outputs of an earlier, crashed attempt at the same
 * file are ours to replace.
 */
export async function outputPath(
  ctx: IngestContext,
  rawTarget: string,
  suffix: string,
  sha256: string,
): Promise<string> {
  const wanted = `${rawTarget}${suffix}`;
  if (!(await ctx.store.isReserved(wanted))) return wanted;
  return siblingPath(wanted, collisionName(lastSegment(wanted), sha256));
}

/**
 * Moves outputs from the temp area into the warehouse, each by one atomic
 * rename (so no reader ever sees a partial Parquet), and fsyncs their
 * directory; in S3 each is uploaded (an object appears whole or not at all).
 * Runs before `stored` is committed: a crash in between leaves outputs that
 * the replay rewrites.
 */
export async function placeOutputs(
  ctx: IngestContext,
  ingestId: string,
  outputs: readonly PlannedOutput[],
  /** The permission bits of the file they were derived from: an output is never readable by more users. */
  sourceMode: number,
): Promise<void> {
  const dir = ctx.warehouse.directory;
  if (!dir) {
    await uploadOutputs(ctx, outputs);
  } else {
    const mode = dir.modeFor(sourceMode);
    // Each step that opens a descriptor (a directory to list or fsync) is retried on its own: a full descriptor
    // table (EMFILE) or disk pauses here instead of failing a file whose raw copy may be about to land.
    const retry = (what: string, fn: () => Promise<unknown>) => retryUntilDone(what, fn, ctx.log, ctx.signal);
    for (const o of outputs) {
      // Before the rename, as for the raw file: an output never appears in the warehouse with a wider mode.
      // (A directory of tables is listed for it, which takes a descriptor.)
      if (o.dir) await retry("warehouse: output mode", async () => sealOutput(o.tmp, true, mode));
      else sealOutput(o.tmp, false, mode);
      await retry("warehouse: make directory", () => dir.ensureDir(dirname(o.final)));
      // rename() cannot replace a non-empty directory: an earlier attempt's tables go first.
      if (o.dir) await retry("warehouse: replace tables", () => rm(o.final, { recursive: true, force: true }));
      renameSync(o.tmp, o.final);
      await retry("warehouse: sync directory", () => ctx.dirs.sync(dirname(o.final)));
    }
  }
  // What a processor wrote but did not hand over (a scratch file, DuckDB's spill) goes with the temp area.
  const outDir = ctx.work.outDirFor(ingestId);
  await retryUntilDone(
    "warehouse: clear temp",
    () => rm(outDir, { recursive: true, force: true }),
    ctx.log,
    ctx.signal,
  );
}

/** Sets an output's mode; a directory of tables gets it on each file, and search (x) wherever it may read. */
function sealOutput(path: string, dir: boolean, mode: number): void {
  if (dir) {
    for (const e of readdirSync(path, { withFileTypes: true })) sealOutput(join(path, e.name), e.isDirectory(), mode);
  }
  chmodSync(path, dir ? mode | ((mode & 0o444) >> 2) : mode);
}

/**
 * Removes whatever outputs a file placed beside `rawTarget` when it ends without its raw file stored (vanished
 * or failed: W5, a Parquet left for a file recorded as "nothing was stored"). The paths are those
 * {@link outputPath} gave when they were placed: called before the commit that ends the row (and releases its
 * name), the same call names the same paths, and never a path another file reserved. Directory warehouse only:
 * an object store's outputs stay (a replay replaces them).
 */
export async function removeOutputs(ctx: IngestContext, rawTarget: string, sha256: string): Promise<void> {
  const dir = ctx.warehouse.directory;
  if (!dir) return;
  const removed = new Set<string>();
  for (const suffix of Object.values(OUTPUT_SUFFIX)) {
    const path = await outputPath(ctx, rawTarget, suffix, sha256);
    if ((await dir.occupant(path)) === null) continue;
    await rm(path, { recursive: true, force: true });
    removed.add(dirname(path));
    ctx.log.info({ event: "output_removed", path, reason: "its file was not stored" });
  }
  for (const d of removed) await ctx.dirs.sync(d);
}

/** Outputs not placed (the file failed or turned out a duplicate) are removed from the temp area. */
export async function discardOutputs(outputs: readonly PlannedOutput[]): Promise<void> {
  await Promise.all(outputs.map((o) => rm(o.tmp, { recursive: true, force: true })));
}
