import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import type { Readable } from "node:stream";
import { expect } from "vitest";
import {
  ArchiveError,
  type ArchiveKind,
  type ArchiveLimits,
  type ReadArchiveOptions,
  readArchive,
} from "../../src/processors/archive/index.js";

/** What reading one member gave: its bytes counted (not kept: the bomb would fill memory), its head, its error. */
export interface Drained {
  bytes: number;
  newlines: number;
  head: Buffer;
  sha256: string;
  error: unknown;
}

/** Reads a member stream to its end (or error), counting without keeping the bytes. */
export async function drain(stream: Readable): Promise<Drained> {
  const hash = createHash("sha256");
  const out: Drained = { bytes: 0, newlines: 0, head: Buffer.alloc(0), sha256: "", error: null };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (out.bytes === 0) out.head = Buffer.from(chunk.subarray(0, 8));
      out.bytes += chunk.length;
      hash.update(chunk);
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) out.newlines++;
    }
  } catch (err) {
    out.error = err;
  }
  out.sha256 = hash.digest("hex");
  return out;
}

export interface FileResult extends Drained {
  path: string;
  size: number | null;
}

export interface Walk {
  files: FileResult[];
  rejected: { rawPath: string; reason: string }[];
  indexes: number[];
  error: unknown;
}

/** Walks a whole archive the way a consumer would, opening and draining every file. */
export async function walk(
  path: string,
  kind: ArchiveKind,
  limits?: Partial<ArchiveLimits>,
  opts?: ReadArchiveOptions,
  read = true,
  /** Milliseconds to wait before opening each member, as a consumer busy with the previous one does. */
  pauseMs: number | null = null,
): Promise<Walk> {
  const w: Walk = { files: [], rejected: [], indexes: [], error: null };
  try {
    for await (const e of readArchive(path, kind, limits, opts)) {
      w.indexes.push(e.index);
      if (pauseMs !== null) await new Promise((r) => setTimeout(r, pauseMs));
      if (e.kind === "rejected") w.rejected.push({ rawPath: e.rawPath, reason: e.reason });
      else if (read) w.files.push({ path: e.path, size: e.size, ...(await drain(e.open())) });
      else
        w.files.push({
          path: e.path,
          size: e.size,
          bytes: 0,
          newlines: 0,
          head: Buffer.alloc(0),
          sha256: "",
          error: null,
        });
    }
  } catch (err) {
    w.error = err;
  }
  return w;
}

export function expectArchiveError(err: unknown, code: ArchiveError["code"], message?: RegExp): void {
  expect(err).toBeInstanceOf(ArchiveError);
  expect((err as ArchiveError).code).toBe(code);
  if (message) expect((err as ArchiveError).message).toMatch(message);
}

export const openFds = (): number => readdirSync("/proc/self/fd").length;
