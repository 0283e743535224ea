import { mkdirSync, writeFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import {
  ArchiveError,
  type ArchiveKind,
  type ArchiveLimits,
  type ReadArchiveOptions,
  readArchive,
} from "../../src/processors/archive/index.js";

export type WalkedEntry =
  | { kind: "file"; index: number; path: string; size: number | null; data: Buffer; error: unknown }
  | { kind: "rejected"; index: number; rawPath: string; reason: string };

export interface Walk {
  entries: WalkedEntry[];
  /** What the iterator threw, if it did. */
  error: unknown;
  /** Member bytes handed to the consumer, over all members. */
  delivered: number;
}

/** Reads every member of an archive to its end (or its error), the way the pipeline consumes it. */
export async function walkArchive(
  path: string,
  kind: ArchiveKind,
  limits: Partial<ArchiveLimits> = {},
  opts: ReadArchiveOptions = {},
): Promise<Walk> {
  const out: Walk = { entries: [], error: null, delivered: 0 };
  try {
    for await (const e of readArchive(path, kind, limits, opts)) {
      if (e.kind === "rejected") {
        out.entries.push({ kind: "rejected", index: e.index, rawPath: e.rawPath, reason: e.reason });
        continue;
      }
      const chunks: Buffer[] = [];
      let error: unknown = null;
      try {
        for await (const c of e.open() as AsyncIterable<Buffer>) {
          chunks.push(c);
          out.delivered += c.length;
        }
      } catch (err) {
        error = err;
      }
      out.entries.push({
        kind: "file",
        index: e.index,
        path: e.path,
        size: e.size,
        data: Buffer.concat(chunks),
        error,
      });
    }
  } catch (err) {
    out.error = err;
  }
  return out;
}

const CODES = new Set(["corrupt", "truncated", "limit", "unsupported"]);

/** The reader's documented failure: an ArchiveError with a known code and a message saying why. */
export function isTypedArchiveError(err: unknown): boolean {
  return err instanceof ArchiveError && CODES.has(err.code) && err.message.length > 0;
}

/** Describes an unexpected error for a failing assertion: its type, code and message. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return `non-Error thrown: ${String(err)}`;
  return `${err.constructor.name} ${String((err as { code?: unknown }).code)}: ${err.message}\n${err.stack ?? ""}`;
}

/**
 * Writes each file entry the way a naive extractor would, under
 * `dest/<index>/<path>`, after checking that the path cannot leave its
 * directory. Returns the entries written (relative to `dest`'s parent).
 */
export function extractTo(dest: string, entries: WalkedEntry[]): string[] {
  const written: string[] = [];
  for (const e of entries) {
    if (e.kind !== "file" || e.error !== null) continue;
    const base = join(dest, String(e.index));
    const target = resolve(base, e.path);
    const rel = relative(base, target);
    if (rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel) || !target.startsWith(base + sep)) {
      throw new Error(`member path ${JSON.stringify(e.path)} leaves its directory (resolves to ${target})`);
    }
    mkdirSync(join(target, ".."), { recursive: true });
    writeFileSync(target, e.data, { flag: "wx" });
    written.push(target);
  }
  return written;
}
