import { closeSync } from "node:fs";
import { newIngestId } from "../core/ids.js";
import type { Candidate } from "../watch/candidate.js";
import type { IngestContext } from "./context.js";
import type { Outcome } from "./outcomes.js";
import { decideStage } from "./stages/decide.js";
import { openSource } from "./stages/read-source.js";

/**
 * `--dry-run`: read and hash each ready file and say what would happen to it,
 * against a throw-away in-memory state (so duplicates within the run are
 * reported). Nothing is moved, written or recorded on disk.
 */
export function makeDryRun(ctx: IngestContext): (c: Candidate) => Promise<Outcome> {
  const reported = new Map<string, string>();
  return async (c) => {
    const key = `${c.identity.device}:${c.identity.inode}:${c.identity.size}:${c.identity.mtimeMs}`;
    if (reported.get(c.path) === key) return "skipped";
    reported.set(c.path, key);
    const ingestId = newIngestId();
    let opened: ReturnType<typeof openSource>;
    try {
      opened = openSource(c.path, c.identity);
    } catch (err) {
      ctx.log.info({ event: "would_fail", path: c.path, reason: (err as Error).message });
      return "skipped";
    }
    try {
      const { sha256 } = await ctx.hasher.hash(opened.fd, c.identity.size);
      const file = { ingestId, sourcePath: c.path, name: c.name, ...c.identity, sidecarPath: null };
      const d = await decideStage(ctx, file, sha256);
      if (d.kind === "new") await ctx.store.markStored(ingestId, new Date().toISOString(), "");
      if (c.sidecar?.sha256 && c.sidecar.sha256 !== sha256) {
        ctx.log.info({ event: "would_fail", path: c.path, sha256, reason: "checksum mismatch with sidecar" });
      } else {
        ctx.log.info({
          event: d.kind === "new" ? "would_ingest" : "would_skip_duplicate",
          path: c.path,
          sha256,
          bytes: c.identity.size,
          warehouse_path: d.warehousePath,
          ...(d.kind === "duplicate" ? { duplicate_of: d.duplicateOf } : {}),
        });
      }
      return "skipped";
    } finally {
      closeSync(opened.fd);
    }
  };
}
