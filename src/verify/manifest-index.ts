import { createReadStream } from "node:fs";
import { basename } from "node:path";
import { createInterface } from "node:readline";
import { walkFiles } from "../warehouse/walk.js";

const MANIFEST_FILE = /^manifest(\.[A-Za-z0-9._-]+)?\.jsonl$/;

/** Where each ingest id appears in the manifests: how many lines, in which files. */
export interface ManifestIndex {
  lines: number;
  /** `sha256` and `duplicate_of` of the id's first line: verify accounts for the lines of pruned files by them. */
  byId: Map<string, { count: number; files: string[]; sha256?: string; duplicateOf?: string }>;
  /**
   * `reprocessed` lines (issue 21), apart from the ingest's one line per file: per file, how many lines each
   * generation has (exactly one each is expected, for generations 1 up to the file's current one).
   */
  reprocessed: Map<string, Map<number, number>>;
  /** Lines that are not JSON with an `ingest_id` (a torn tail that was never repaired, or foreign content). */
  unreadable: { file: string; line: number }[];
}

async function* manifestFiles(dir: string): AsyncGenerator<string> {
  for await (const p of walkFiles(dir, () => false)) if (MANIFEST_FILE.test(basename(p))) yield p;
}

/** Reads every `manifest*.jsonl` under `root` line by line (memory grows with ids, not with file sizes). */
export async function indexManifests(root: string): Promise<ManifestIndex> {
  const index: ManifestIndex = { lines: 0, byId: new Map(), reprocessed: new Map(), unreadable: [] };
  for await (const file of manifestFiles(root)) {
    let n = 0;
    for await (const text of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      n++;
      if (!text) continue;
      let id: unknown;
      let doc: {
        ingest_id?: unknown;
        status?: unknown;
        generation?: unknown;
        sha256?: unknown;
        duplicate_of?: unknown;
      } = {};
      try {
        doc = JSON.parse(text) as typeof doc;
        id = doc.ingest_id;
      } catch {
        id = undefined;
      }
      if (typeof id !== "string") {
        index.unreadable.push({ file, line: n });
        continue;
      }
      index.lines++;
      if (doc.status === "reprocessed" && typeof doc.generation === "number") {
        const gens = index.reprocessed.get(id) ?? new Map<number, number>();
        gens.set(doc.generation, (gens.get(doc.generation) ?? 0) + 1);
        index.reprocessed.set(id, gens);
        continue;
      }
      const e = index.byId.get(id) ?? {
        count: 0,
        files: [],
        ...(typeof doc.sha256 === "string" ? { sha256: doc.sha256 } : {}),
        ...(typeof doc.duplicate_of === "string" ? { duplicateOf: doc.duplicate_of } : {}),
      };
      e.count++;
      if (!e.files.includes(file)) e.files.push(file);
      index.byId.set(id, e);
    }
  }
  return index;
}
