import { createReadStream } from "node:fs";
import { type FileHandle, open, stat, truncate } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import type { ManifestLineV1 } from "../core/manifest-line.js";
import { Batcher } from "../durable/batcher.js";
import { type DirSyncer, mkdirDurable } from "../durable/fsync.js";
import { appendDurably, FragmentLeftError } from "../durable/write-all.js";

const MAX_OPEN = 4;

/**
 * Appends manifest lines, `MANIFESTS/YYYY/MM/DD/HH/manifest.jsonl` by the UTC
 * hour of ingest. Lines submitted together are written with one append and
 * one fdatasync per file, so a batch is whole: a write cut short by a full disk
 * is cut back and fails the batch (retried until there is room), and after a
 * crash the torn tail is cut off on the next start and rewritten from state.
 */
export class ManifestWriter {
  private readonly handles = new Map<string, FileHandle>();
  /** Files where a failed append may have left bytes: the size to cut them back to. */
  private readonly fragments = new Map<string, number>();
  private readonly batcher: Batcher<{ path: string; line: string }, void>;

  /**
   * `fileName`: `manifest.jsonl`, or with several nodes writing one manifest
   * tree `manifest.NODE.jsonl`: each hourly file then has exactly one writer,
   * so appends from different hosts never interleave or tear each other.
   */
  constructor(
    private readonly root: string,
    private readonly dirs: DirSyncer,
    private readonly fileName = "manifest.jsonl",
  ) {
    this.batcher = new Batcher<{ path: string; line: string }, void>(async (items) => {
      const byPath = new Map<string, string[]>();
      for (const { path, line } of items) {
        const lines = byPath.get(path) ?? [];
        lines.push(line);
        byPath.set(path, lines);
      }
      const failed = new Map<string, Error>();
      for (const [path, lines] of byPath) {
        try {
          const cutAt = this.fragments.get(path);
          if (cutAt !== undefined) {
            // An earlier append failed and could not be cut back: remove what it left before appending again.
            await truncate(path, cutAt);
            this.fragments.delete(path);
          }
          await appendDurably(await this.handle(path), lines.join(""));
        } catch (err) {
          if (err instanceof FragmentLeftError) this.fragments.set(path, err.sizeBefore);
          failed.set(path, err as Error);
        }
      }
      return items.map((i) => failed.get(i.path));
    });
  }

  pathFor(at: Date): string {
    const iso = at.toISOString();
    return join(this.root, iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10), iso.slice(11, 13), this.fileName);
  }

  /** Resolves once the line is durable. */
  append(path: string, line: ManifestLineV1): Promise<void> {
    return this.batcher.submit({ path, line: `${JSON.stringify(line)}\n` });
  }

  private async handle(path: string): Promise<FileHandle> {
    const open_ = this.handles.get(path);
    if (open_) return open_;
    const dir = dirname(path);
    await mkdirDurable(dir, this.dirs);
    let isNew = false;
    try {
      await stat(path);
    } catch {
      isNew = true;
    }
    const fh = await open(path, "a");
    if (isNew) {
      // The new file's name must survive a power loss too.
      await this.dirs.sync(dir);
    }
    this.handles.set(path, fh);
    if (this.handles.size > MAX_OPEN) {
      const [oldest, oldFh] = this.handles.entries().next().value as [string, FileHandle];
      this.handles.delete(oldest);
      await oldFh.close();
    }
    return fh;
  }

  /** Cuts a torn last line (no trailing newline) left by a crash mid-write. */
  async repairTail(path: string): Promise<boolean> {
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      return false;
    }
    if (size === 0) return false;
    const fh = await open(path, "r");
    try {
      const chunk = Buffer.alloc(Math.min(size, 1 << 16));
      let end = size;
      // Walk back to the last newline; lines are short, but a huge torn tail must still be handled.
      while (end > 0) {
        const start = Math.max(0, end - chunk.length);
        const { bytesRead } = await fh.read(chunk, 0, end - start, start);
        const idx = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
        if (idx !== -1) {
          const keep = start + idx + 1;
          if (keep === size) return false;
          await truncate(path, keep);
          return true;
        }
        end = start;
      }
      await truncate(path, 0);
      return true;
    } finally {
      await fh.close();
    }
  }

  /** Which of `ids` already have a line in `path` (recovery only: reads the whole file, streamed). */
  async findIngestIds(path: string, ids: ReadonlySet<string>): Promise<Set<string>> {
    const found = new Set<string>();
    try {
      await stat(path);
    } catch {
      return found;
    }
    const rl = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of rl) {
      const m = /"ingest_id":"([^"]+)"/.exec(line);
      if (m?.[1] && ids.has(m[1])) found.add(m[1]);
    }
    return found;
  }

  async close(): Promise<void> {
    await this.batcher.drain();
    for (const fh of this.handles.values()) await fh.close();
    this.handles.clear();
  }
}
