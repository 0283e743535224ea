import { createReadStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { SluiceError } from "../../core/errors.js";
import type { ProcessingOutput, ProcessingResult } from "../../core/processing.js";
import { retry } from "../../core/retry.js";
import { crashPoint, faultPoint } from "../../durable/crash-points.js";
import { fsyncTrees } from "../../durable/fsync.js";
import { ArchiveError } from "../../processors/archive/errors.js";
import { type ArchiveKind, archiveKindOf } from "../../processors/archive/kind.js";
import type { DuckOptions } from "../../processors/tabular/duckdb-session.js";
import { TabularError } from "../../processors/tabular/errors.js";
import { tabularFormatOf } from "../../processors/tabular/format.js";
import { liveSchemas } from "../../processors/validate/live-schema.js";
import { schemaFor } from "../../processors/validate/schema.js";
import { OUTPUT_SUFFIX } from "../../warehouse/warehouse-paths.js";
import type { IngestContext } from "../context.js";
import { resourceExhaustion, SinkWriteError } from "../outcomes.js";
import type { MemberIngest } from "./archive-members.js";
import { DUCKDB_DESCRIPTORS, ensureDescriptors } from "./descriptor-headroom.js";
import { outputPath, type PlannedOutput } from "./outputs.js";

// DuckDB and the archive libraries take ~0.4 s to load: only a run that meets such a file pays for them.
const loadArchives = () => import("./archive-members.js");
const loadTabular = () => import("../../processors/tabular/convert.js");
const loadSqlDump = () => import("../../processors/sql-dump/to-parquet.js");

/** Everything a processor needs to know about the file in hand. */
export interface ProcessJob {
  ingestId: string;
  /** Relative name (a member's path inside its archive): picks the processor and the schema. */
  name: string;
  /** A path that reads exactly the hashed bytes: /proc/self/fd/N of the descriptor we hold, or the stored copy. */
  inputPath: string;
  /** Where the raw file lands; outputs go beside it. */
  target: string;
  sha256: string;
  /** 0 for staging files, +1 per archive level. */
  depth: number;
  /** Shown as members' provenance. */
  sourcePath: string;
  mtimeMs: number;
  /** How an archive's members go forward: the forward path's member entry, handed in (no import cycle). */
  members: MemberIngest;
}

export interface Processed {
  result: ProcessingResult;
  outputs: PlannedOutput[];
}

type ProcessorKind = "archive" | "tabular" | "sql-dump";

/** Which processor applies, by name: most files (and every file in the small-file benchmark) get none. */
export function processorFor(ctx: IngestContext, name: string, depth: number): ProcessorKind | null {
  const base = basename(name);
  if (depth < ctx.config.archive.depth && archiveKindOf(base)) return "archive";
  if (!ctx.config.convert) return null;
  if (tabularFormatOf(base)) return "tabular";
  if (/\.sql$/i.test(base)) return "sql-dump";
  return null;
}

function duckOptions(ctx: IngestContext): DuckOptions {
  return {
    memoryLimit: ctx.config.duckdbMemoryLimit,
    threads: ctx.config.convertThreads,
    tempDirectory: join(ctx.work.tmpDir, "duckdb"),
  };
}

/**
 * Runs the file's processor. Returns null when none applies. Throws
 * SluiceError when the file cannot be processed at all (it is then
 * quarantined); bad rows are not errors, they are reported.
 */
export async function processFile(ctx: IngestContext, job: ProcessJob): Promise<Processed | null> {
  const kind = processorFor(ctx, job.name, job.depth);
  if (!kind) return null;
  const started = performance.now();
  try {
    faultPoint("process", job.name);
    if (kind === "archive") {
      const { expandArchive } = await loadArchives();
      const result = await expandArchive(
        ctx,
        job,
        archiveKindOf(basename(job.name)) as ArchiveKind,
        started,
        job.members,
      );
      if (ctx.config.archive.keep) return { result, outputs: [] };
      return { result: { ...result, record: { ...result.record, rawKept: false }, rawDiscarded: true }, outputs: [] };
    }
    const processed =
      kind === "tabular"
        ? await ctx.converts.run(() => {
            ensureDescriptors(DUCKDB_DESCRIPTORS);
            return convertOne(ctx, job, started);
          })
        : await ctx.converts.run(() => {
            ensureDescriptors(DUCKDB_DESCRIPTORS);
            return convertSqlDump(ctx, job, started);
          });
    // Processors write plain files: they are made durable here, before anything records them.
    await fsyncTrees(processed.outputs.map((o) => o.tmp));
    crashPoint("after-convert");
    return processed;
  } catch (err) {
    throw asProcessingError(err);
  }
}

async function convertOne(ctx: IngestContext, job: ProcessJob, started: number): Promise<Processed> {
  const format = tabularFormatOf(basename(job.name));
  if (!format) throw new Error(`internal: ${job.name} is not tabular`);
  // The schema file as it reads now: a fixed schema applies to the next file (and to a requeued one) at once.
  const schema = schemaFor(basename(job.name), [...liveSchemas(ctx.config.schemaFile, ctx.config.schemas)]);
  const outDir = ctx.work.outDirFor(job.ingestId);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const tmp = join(outDir, "table.parquet");
  const tmpRejects = join(outDir, "rejects.jsonl");
  const { convertTabular } = await loadTabular();
  const r = await convertTabular(job.inputPath, format, tmp, {
    ...duckOptions(ctx),
    schema,
    rejectsPath: tmpRejects,
    displayName: job.name,
    duck: ctx.duck,
  });
  const v = r.validation;
  if (v && v.status === "failed") {
    const first = v.invalidRows
      .slice(0, 3)
      .map((x) => `row ${x.row}: ${x.error}`)
      .join("; ");
    throw new SluiceError("SLUICE_ERR_NO_VALID_ROWS", `none of ${v.invalidCount} rows is valid (${first})`);
  }
  const outputs: PlannedOutput[] = [];
  const recorded: ProcessingOutput[] = [];
  if (r.parquetPath && r.profile) {
    const final = await outputPath(ctx, job.target, OUTPUT_SUFFIX.parquet, job.sha256);
    outputs.push({ tmp, final });
    recorded.push({ kind: "parquet", path: final, profile: r.profile });
  }
  if (v && v.invalidCount > 0) {
    const final = await outputPath(ctx, job.target, OUTPUT_SUFFIX.rejects, job.sha256);
    outputs.push({ tmp: tmpRejects, final });
    recorded.push({ kind: "rejects", path: final });
  }
  return {
    outputs,
    result: {
      record: {
        version: 1,
        processor: "tabular",
        status: v?.status ?? "processed",
        outputs: recorded,
        ...(v ? { aggregations: v.aggregations, invalidCount: v.invalidCount } : {}),
        ...(schema ? { schema: schema.name } : {}),
        ...(r.note ? { note: r.note } : {}),
        ...(r.dialect ? { dialect: r.dialect } : {}),
        ...(r.duplicateKeys ? { duplicateKeys: r.duplicateKeys } : {}),
        processingMs: Math.round(performance.now() - started),
      },
      invalidRows: v?.invalidRows ?? [],
    },
  };
}

async function convertSqlDump(ctx: IngestContext, job: ProcessJob, started: number): Promise<Processed> {
  const outDir = ctx.work.outDirFor(job.ingestId);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const tmpDir = join(outDir, "tables");
  const { sqlDumpToParquet } = await loadSqlDump();
  const res = await sqlDumpToParquet(
    createReadStream(job.inputPath, { highWaterMark: 1 << 20 }),
    tmpDir,
    duckOptions(ctx),
  );
  if (res.tables.length === 0 && res.errors.length > 0) {
    const first = res.errors[0];
    throw new SluiceError(
      "SLUICE_ERR_PARSE",
      `no table could be read; first problem at line ${first?.line}: ${first?.message}`,
    );
  }
  const finalDir = await outputPath(ctx, job.target, OUTPUT_SUFFIX.tables, job.sha256);
  return {
    outputs: res.tables.length > 0 ? [{ tmp: tmpDir, final: finalDir, dir: true }] : [],
    result: {
      record: {
        version: 1,
        processor: "sql-dump",
        status: res.errorCount > 0 ? "partial" : "processed",
        outputs: res.tables.map((t) => ({
          kind: "parquet" as const,
          table: t.table,
          // Not path.join: it would fold the `//` of an s3:// warehouse path.
          path: `${finalDir}/${basename(t.parquetPath)}`,
          profile: t.profile,
        })),
        invalidCount: res.errorCount,
        ...(res.tables.length === 0 ? { note: "no table data in the dump" } : {}),
        processingMs: Math.round(performance.now() - started),
      },
      // For a SQL dump the "row" of an invalid entry is its line in the dump.
      invalidRows: res.errors.map((e) => ({ row: e.line, error: `${e.table ?? "(no table)"}: ${e.message}` })),
    },
  };
}

function asProcessingError(err: unknown): unknown {
  // A full warehouse or scratch disk reported by DuckDB, an archive reader or a write of sluice's own: the
  // processor is run again once there is room (processWithRetry), the file is not failed.
  const exhausted = err instanceof SinkWriteError ? undefined : resourceExhaustion(err);
  if (exhausted) {
    const first = ((err as Error).message ?? String(err)).split("\n")[0];
    return new SinkWriteError(`cannot write the processing outputs: ${first}`, exhausted, { cause: err });
  }
  // Both carry their catalog code; the reason adds where in the file (or which member) it happened.
  if (err instanceof TabularError) return new SluiceError(err.code, err.detail, { cause: err });
  if (err instanceof ArchiveError) {
    const member = err.memberPath ? ` (member ${JSON.stringify(err.memberPath)})` : "";
    return new SluiceError(err.errorCode, `${err.message}${member}`, { cause: err });
  }
  return err;
}

/**
 * A full warehouse (ENOSPC) while writing members or Parquet is waited out,
 * not held against the file: the processor is simply run again (archive
 * members already recorded are skipped by the replay). Anything else (a
 * verdict on the file, a bug) is thrown after the one run.
 */
export function processWithRetry(ctx: IngestContext, job: ProcessJob): Promise<Processed | null> {
  return retry(() => processFile(ctx, job), {
    signal: ctx.signal,
    retryable: (err) => err instanceof SinkWriteError,
    baseMs: 100,
    capMs: 30_000,
    onRetry: (err, attempt, delay) =>
      ctx.log.warn({
        event: "write_retry",
        what: "warehouse: processing output",
        attempt,
        code: (err as SinkWriteError).errno,
        error: (err as Error).message,
        retry_in_ms: Math.round(delay),
      }),
  });
}
