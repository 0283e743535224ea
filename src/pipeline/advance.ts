import { SluiceError } from "../core/errors.js";
import type { FileRecord } from "../core/file-record.js";
import type { FileState } from "../core/file-state.js";
import { Limiter } from "../core/limiter.js";
import { hashPath } from "../hashing/hash-path.js";
import type { IngestContext } from "./context.js";
import { ShutdownError } from "./outcomes.js";
import { finishStages } from "./stages/finish.js";
import { completeQuarantine } from "./stages/quarantine.js";
import { abandon, recoverHashed } from "./stages/resume-hashed.js";

type ActiveState = Exclude<FileState, "done" | "duplicate" | "failed">;

/** Moves records of one state on to a terminal state; one result per row, in order (null: the row is gone). */
type Step = (ctx: IngestContext, rows: FileRecord[], linesWritten: Set<string>) => Promise<(FileRecord | null)[]>;

/**
 * Confirms by content that the file now in staging is the one a row recorded: after a restart an inode may have
 * been reused. (A member's source is inside its archive: nothing of it is in staging.)
 */
const confirmOf = (ctx: IngestContext, row: FileRecord) =>
  row.archiveIngestId === null ? async (path: string) => (await hashPath(ctx.hasher, path)) === row.sha256 : undefined;

/** The tail (manifest line unless it reached the disk, release, terminal state) for all the rows at once. */
const finishRows: Step = (ctx, rows, linesWritten) =>
  finishStages(
    ctx,
    rows.map((row) => ({
      record: row,
      manifestAlreadyWritten: row.state === "stored" || row.state === "hashed" ? linesWritten.has(row.ingestId) : false,
      ...(row.archiveIngestId === null ? { confirm: confirmOf(ctx, row) } : { sourceMoved: true }),
    })),
  );

/**
 * What happens next to a record at rest, by its durable state: the one table recovery after a crash, the
 * adoption of a dead node's files, and the replay of an archive's members all go through. Each state's step
 * takes every row in that state together; the side effects are idempotent and the disk is checked before each
 * one (is the content already in the warehouse? is the manifest line already written?), so nothing is done twice.
 */
const STEPS: Record<ActiveState, Step> = {
  // Nothing happened yet; the file (if still there) is found again by the first scan.
  discovered: (ctx, rows) =>
    Promise.all(
      rows.map(async (row) => {
        await ctx.work.removeTmp(row.ingestId);
        await ctx.store.forget(row.ingestId);
        return null;
      }),
    ),
  // A duplicate only needs its tail; an original's content may or may not have landed (advance() hands this step
  // one row at a time, side by side).
  hashed: async (ctx, rows, linesWritten) => {
    const dups = rows.filter((r) => r.duplicateOf);
    const finished = new Map((await finishRows(ctx, dups, linesWritten)).map((rec, k) => [dups[k] as FileRecord, rec]));
    const out: (FileRecord | null)[] = [];
    for (const row of rows) {
      out.push(finished.get(row) ?? (await recoverHashed(ctx, row, confirmOf(ctx, row) ?? (async () => false))));
    }
    return out;
  },
  stored: finishRows,
  manifested: finishRows,
  // Rare (a crash while a file was being moved to the error directory): one at a time.
  quarantine: async (ctx, rows) => {
    const out: FileRecord[] = [];
    for (const row of rows) out.push(await completeQuarantine(ctx, row.ingestId));
    return out;
  },
};

/** The order states are taken in: files nearest their end first. */
const ORDER: ActiveState[] = ["manifested", "stored", "hashed", "quarantine", "discovered"];

/** Advances records at rest to a terminal state (or forgets them); one result per row, in the rows' order. */
export async function advance(
  ctx: IngestContext,
  rows: FileRecord[],
  linesWritten: Set<string>,
): Promise<(FileRecord | null)[]> {
  const out = new Map<FileRecord, FileRecord | null>();
  const live: FileRecord[] = [];
  for (const row of rows) {
    if (row.archiveIngestId !== null && (row.state === "discovered" || row.state === "hashed")) {
      // Its archive is finished (failed mid-way): the member's bytes never reached the warehouse.
      const why = "the archive it came from ended before this member was stored";
      out.set(row, (await isolated(ctx, [row], () => abandon(ctx, row, why).then((rec) => [rec])))[0] ?? null);
    } else live.push(row);
  }
  for (const state of ORDER) {
    const group = live.filter((r) => r.state === state);
    if (group.length === 0) continue;
    const recs =
      state === "hashed"
        ? await sideBySide(ctx, group, (one) => STEPS.hashed(ctx, one, linesWritten))
        : await isolated(ctx, group, (rows) => STEPS[state](ctx, rows, linesWritten));
    group.forEach((row, k) => {
      out.set(row, recs[k] ?? null);
    });
  }
  return rows.map((row) => out.get(row) ?? null);
}

/**
 * `hashed` rows, each on its own and side by side: as many at once as the run that left them could have had in
 * flight (--concurrency), so recovery is never more constrained than that run was. One at a time, an archive's
 * member could wait (decide) for content held by a member of an archive later in the queue, which nothing would
 * finish until the wait gave up (a cycle seen after a kill with two archives sharing a member's bytes).
 */
async function sideBySide(
  ctx: IngestContext,
  rows: FileRecord[],
  step: (rows: FileRecord[]) => Promise<(FileRecord | null)[]>,
): Promise<(FileRecord | null)[]> {
  const slots = new Limiter(Math.max(1, ctx.config.concurrency));
  return Promise.all(rows.map(async (row) => (await slots.run(() => isolated(ctx, [row], step)))[0] ?? null));
}

/**
 * Runs a step for rows taken together; if it throws anything but the shutdown (a bug, an error no rule foresaw,
 * ownership lost to another node), again one row at a time, so that one row's error is its own. A row whose step
 * still throws is left as it is (result null), logged once as `recovery_failed`: the steps are idempotent and
 * the next start tries it again, so a deterministic bug costs one log line per start, never a loop, and the
 * other rows and the service go on. (Retryable errors never get here: the steps wait them out.)
 */
async function isolated(
  ctx: IngestContext,
  rows: FileRecord[],
  step: (rows: FileRecord[]) => Promise<(FileRecord | null)[]>,
): Promise<(FileRecord | null)[]> {
  try {
    return await step(rows);
  } catch (err) {
    if (err instanceof ShutdownError) throw err;
    if (rows.length > 1) {
      const out: (FileRecord | null)[] = [];
      for (const row of rows) out.push(...(await isolated(ctx, [row], step)));
      return out;
    }
    const row = rows[0] as FileRecord;
    ctx.log.error({
      event: "recovery_failed",
      ingest_id: row.ingestId,
      path: row.sourcePath,
      state: row.state,
      code: err instanceof SluiceError ? err.code : "SLUICE_ERR_INTERNAL",
      error: (err as Error).message,
      stack: (err as Error).stack,
      note: "the record is left as it is; the next start tries it again",
    });
    return [null];
  }
}
