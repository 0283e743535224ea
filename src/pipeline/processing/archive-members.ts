import { chmodSync, closeSync, fstatSync, openSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { basename } from "node:path";
import { ERROR_CATALOG, type ErrorCode, SluiceError } from "../../core/errors.js";
import type { FileRecord } from "../../core/file-record.js";
import { newIngestId } from "../../core/ids.js";
import type { ProcessingResult } from "../../core/processing.js";
import { crashPoint } from "../../durable/crash-points.js";
import { ArchiveError, type ArchiveFileEntry, type ArchiveKind, readArchive } from "../../processors/archive/index.js";
import type { InvalidRow } from "../../processors/profile.js";
import type { NewFile } from "../../store/state-store.js";
import type { IngestContext } from "../context.js";
import { emitFinished } from "../file-events.js";
import { resourceExhaustion } from "../outcomes.js";
import { retryUntilDone } from "../retry.js";
import { decideStage } from "../stages/decide.js";
import { finishStage, finishWithoutRaw } from "../stages/finish.js";
import { landStage } from "../stages/land.js";
import { quarantineStage } from "../stages/quarantine.js";
import { freeTarget } from "../stages/store.js";
import { copyStreamHashing } from "./copy-stream.js";
import type { Processed, ProcessJob } from "./process-file.js";

type MemberOutcome = "ingested" | "duplicate" | "failed";
type MemberProcessor = (ctx: IngestContext, job: ProcessJob) => Promise<Processed | null>;

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
  /** Runs a member's own processor (an archive in an archive, a CSV): passed in, so this module imports no processor. */
  processMember: MemberProcessor,
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
    const outcome = await ingestMember(ctx, job, entry, processMember);
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

async function ingestMember(
  ctx: IngestContext,
  archive: ProcessJob,
  entry: ArchiveFileEntry,
  processMember: MemberProcessor,
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
  const tmp = ctx.warehouse.tmpPathFor(ingestId);
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
    return failMember(ctx, file, startedAt, "SLUICE_ERR_ARCHIVE_CORRUPT", err.message);
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
    const decision = await decideStage(ctx, file, copied.sha256);
    if (decision.kind === "duplicate") {
      await rm(tmp, { force: true });
      const rec = await finishStage(ctx, ingestId, { sourceMoved: true });
      emitFinished(ctx, rec, startedAt, provenance(rec));
      return "duplicate";
    }
    let target: string;
    try {
      target = await freeTarget(ctx, ingestId, decision.warehousePath, copied.sha256);
    } catch (err) {
      // No usable warehouse name for this member (its directory is a file there, or the path is too long):
      // it fails alone, like a damaged member, instead of taking the archive down.
      if (!(err instanceof SluiceError)) throw err;
      return failMember(ctx, file, startedAt, err.code, err.message);
    }
    let processed: Processed | null;
    try {
      processed = await processMember(ctx, {
        ingestId,
        name: entry.path,
        inputPath: `/proc/self/fd/${fd}`,
        target,
        sha256: copied.sha256,
        depth: archive.depth + 1,
        sourcePath: file.sourcePath,
        mtimeMs: archive.mtimeMs,
      });
    } catch (err) {
      if (!(err instanceof SluiceError)) throw err;
      return failMember(ctx, file, startedAt, err.code, err.message, true);
    }
    if (processed?.result.rawDiscarded) {
      const rec = await finishWithoutRaw(ctx, ingestId, processed.result, { sourceMoved: true });
      emitFinished(ctx, rec, startedAt, provenance(rec));
      return outcomeOf(rec);
    }
    const identity = { device: st.dev, inode: st.ino, size: copied.bytes, mtimeMs: st.mtimeMs };
    await landStage(
      ctx,
      ingestId,
      file.sourcePath,
      { fd, identity, owner: { uid: st.uid, mode, nlink: 1 }, sha256: copied.sha256, tmpPath: tmp },
      target,
      processed,
    );
    const rec = await finishStage(ctx, ingestId, { sourceMoved: true });
    emitFinished(ctx, rec, startedAt, provenance(rec));
    return outcomeOf(rec);
  } finally {
    closeSync(fd);
  }
}

function provenance(rec: { archiveIngestId?: string | null; memberPath?: string | null }): Record<string, unknown> {
  return { archive_ingest_id: rec.archiveIngestId, member_path: rec.memberPath };
}

/**
 * A member that cannot be ingested goes to the error directory like any
 * file (its bytes, if they were read whole, with the reason beside them);
 * the archive carries on with the next member.
 */
async function failMember(
  ctx: IngestContext,
  file: NewFile,
  startedAt: number,
  code: ErrorCode,
  detail: string,
  keepBytes = false,
): Promise<MemberOutcome> {
  if (!keepBytes) await rm(ctx.warehouse.tmpPathFor(file.ingestId), { force: true });
  await retryUntilDone("state: discovered", () => ctx.store.recordDiscovered(file), ctx.log, ctx.signal);
  const info = { code, message: `${detail} (${ERROR_CATALOG[code].hint})`, attempts: 1 };
  const rec = await quarantineStage(ctx, file.ingestId, basename(file.memberPath ?? file.name), info);
  emitFinished(ctx, rec, startedAt, provenance(file));
  return "failed";
}
