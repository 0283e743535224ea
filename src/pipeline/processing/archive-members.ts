import { chmodSync, closeSync, fstatSync, openSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { basename } from "node:path";
import { withHint } from "../../core/errors.js";
import type { FileRecord } from "../../core/file-record.js";
import { newIngestId } from "../../core/ids.js";
import type { ProcessingResult } from "../../core/processing.js";
import type { InvalidRow } from "../../core/profile.js";
import { crashPoint } from "../../durable/crash-points.js";
import { ArchiveError, type ArchiveFileEntry, type ArchiveKind, readArchive } from "../../processors/archive/index.js";
import type { NewFile } from "../../store/state-store.js";
import type { IngestContext } from "../context.js";
import { emitFinished } from "../file-events.js";
import { resourceExhaustion } from "../outcomes.js";
import { retryUntilDone } from "../retry.js";
import { finishStage } from "../stages/finish.js";
import { quarantineStage } from "../stages/quarantine.js";
import type { HashedSource } from "../stages/read-source.js";
import { copyStreamHashing } from "./copy-stream.js";
import type { ProcessJob } from "./process-file.js";

export type MemberOutcome = "ingested" | "duplicate" | "failed";

/** A member read whole into its temp copy, ready for the forward path's steps from the decision on. */
export interface ReadMember {
  file: NewFile;
  src: HashedSource;
  startedAt: number;
  /** The archive's depth + 1 (picks the member's own processor). */
  depth: number;
}

/**
 * Takes a member forward (forward/driver.ts `ingestMember`), handed in so that this module drives no pipeline
 * step itself and imports none. Throws what is the archive's failure rather than the member's.
 */
export type MemberIngest = (ctx: IngestContext, member: ReadMember) => Promise<MemberOutcome>;

/**
 * Ingests each member of an archive as a file of its own (own SHA-256,
 * dedupe, manifest line), linked to the archive by (archive ingest id,
 * member index). Runs while the archive itself is not yet stored, so a crash
 * replays the whole walk: members already recorded are skipped by that key,
 * and one caught mid-way is redone under its own id (its own members, for an
 * archive inside an archive, keep pointing at it).
 */
export async function expandArchive(
  ctx: IngestContext,
  job: ProcessJob,
  kind: ArchiveKind,
  started: number,
  /** Takes each member forward: the forward path's member entry, passed in (this module imports no step). */
  ingestMember: MemberIngest,
): Promise<ProcessingResult> {
  const members = { files: 0, ingested: 0, duplicate: 0, failed: 0, rejected: 0 };
  const invalidRows: InvalidRow[] = [];
  const limits = {
    maxMembers: ctx.config.archive.maxMembers,
    maxTotalBytes: ctx.config.archive.maxTotalBytes,
    maxRatio: ctx.config.archive.maxRatio,
  };
  const gzMemberName = basename(job.name).replace(/\.gz$/i, "");
  for await (const entry of readArchive(job.inputPath, kind, limits, { gzMemberName })) {
    if (entry.kind === "rejected") {
      members.rejected++;
      invalidRows.push({
        row: entry.index + 1,
        error: `member ${JSON.stringify(entry.rawPath)} rejected: ${entry.reason}`,
      });
      continue;
    }
    members.files++;
    const outcome = await takeMember(ctx, job, entry, ingestMember);
    members[outcome]++;
    if (outcome === "failed") {
      const rec = await ctx.store.member(job.ingestId, entry.index);
      invalidRows.push({
        row: entry.index + 1,
        error: `member ${JSON.stringify(entry.path)} failed: ${rec?.errorMessage ?? "?"}`,
      });
    }
    crashPoint("after-member");
  }
  return {
    record: {
      version: 1,
      processor: "archive",
      status: members.failed + members.rejected > 0 ? "partial" : "processed",
      outputs: [],
      members,
      invalidCount: invalidRows.length,
      processingMs: Math.round(performance.now() - started),
    },
    invalidRows,
  };
}

function outcomeOf(rec: FileRecord): MemberOutcome {
  return rec.state === "duplicate" ? "duplicate" : rec.state === "failed" ? "failed" : "ingested";
}

/**
 * One member: a row an earlier attempt left stored only needs its tail; a new one is copied out
 * of the archive and hashed here (its read step), then taken forward by the same steps as any file.
 */
async function takeMember(
  ctx: IngestContext,
  archive: ProcessJob,
  entry: ArchiveFileEntry,
  ingestMember: MemberIngest,
): Promise<MemberOutcome> {
  const startedAt = performance.now();
  const existing = await ctx.store.member(archive.ingestId, entry.index);
  if (existing) {
    if (existing.state === "done" || existing.state === "duplicate" || existing.state === "failed") {
      return outcomeOf(existing);
    }
    if (existing.state === "stored" || existing.state === "manifested") {
      // A crash after the member's manifest line was appended, before `manifested` was committed: the line is
      // there already and must not be written twice (recovery checks the same for top-level files).
      const lineWritten =
        existing.state === "stored" && existing.manifestPath
          ? (await ctx.manifests.findIngestIds(existing.manifestPath, new Set([existing.ingestId]))).has(
              existing.ingestId,
            )
          : false;
      const rec = await finishStage(ctx, existing.ingestId, { sourceMoved: true, manifestAlreadyWritten: lineWritten });
      emitFinished(ctx, rec, startedAt, provenance(existing));
      return outcomeOf(rec);
    }
  }
  const ingestId = existing?.ingestId ?? newIngestId();
  const tmp = ctx.work.tmpPathFor(ingestId);
  await rm(tmp, { force: true });
  const file: NewFile = {
    ingestId,
    sourcePath: `${archive.sourcePath}!/${entry.path}`,
    name: entry.path,
    device: 0,
    inode: 0,
    size: entry.size ?? 0,
    mtimeMs: archive.mtimeMs,
    sidecarPath: null,
    archiveIngestId: archive.ingestId,
    memberPath: entry.path,
    memberIndex: entry.index,
  };
  let copied: { sha256: string; bytes: number };
  try {
    copied = await copyStreamHashing(entry.open(), tmp);
  } catch (err) {
    await rm(tmp, { force: true });
    // A limit breach condemns the whole archive; a damaged member only itself. A reader that ran out of
    // descriptors or disk says so as damage (its cause holds the errno): that is retried, not the member's fault.
    if (!(err instanceof ArchiveError) || err.code === "limit" || resourceExhaustion(err)) throw err;
    return failDamaged(ctx, file, startedAt, err.message);
  }
  // A member is readable by no more users than its archive: its copy takes the archive's group/other bits,
  // which its outputs, its stored copy and members of a nested archive inherit in turn.
  const mode = (statSync(archive.inputPath).mode & 0o777) | 0o600;
  chmodSync(tmp, mode);
  const fd = openSync(tmp, "r");
  try {
    const st = fstatSync(fd);
    file.size = copied.bytes;
    file.device = st.dev;
    file.inode = st.ino;
    // A member's time is its archive's (as recorded and in its manifest line); its copy is never checked for
    // change by time (it was hashed as it was written).
    const identity = { device: st.dev, inode: st.ino, size: copied.bytes, mtimeMs: archive.mtimeMs };
    const src = { fd, identity, owner: { uid: st.uid, mode, nlink: 1 }, sha256: copied.sha256, tmpPath: tmp };
    return await ingestMember(ctx, { file, src, startedAt, depth: archive.depth + 1 });
  } finally {
    closeSync(fd);
  }
}

function provenance(rec: { archiveIngestId?: string | null; memberPath?: string | null }): Record<string, unknown> {
  return { archive_ingest_id: rec.archiveIngestId, member_path: rec.memberPath };
}

/**
 * A member that cannot be read whole goes to the error directory like any file, with the reason and without
 * its bytes; the archive carries on with the next member.
 */
async function failDamaged(
  ctx: IngestContext,
  file: NewFile,
  startedAt: number,
  detail: string,
): Promise<MemberOutcome> {
  const code = "SLUICE_ERR_ARCHIVE_CORRUPT";
  await retryUntilDone("state: discovered", () => ctx.store.recordDiscovered(file), ctx.log, ctx.signal);
  const info = { code, message: withHint(code, detail), attempts: 1 };
  const rec = await quarantineStage(ctx, file.ingestId, basename(file.memberPath ?? file.name), info);
  emitFinished(ctx, rec, startedAt, provenance(file));
  return "failed";
}
