import { join } from "node:path";
import type { RunConfig } from "../../config/config.js";
import { MANIFEST_INVALID_ROWS } from "../../core/manifest-line.js";
import { DirSyncer } from "../../durable/fsync.js";
import { ManifestWriter } from "../../manifest/manifest-writer.js";
import { manifestLine } from "../../pipeline/stages/finish.js";
import type { StateStore } from "../../store/state-store.js";
import { createLogger } from "../../telemetry/logger.js";
import { indexManifests } from "../../verify/manifest-index.js";
import { type Problem, reconcile } from "../../verify/reconcile.js";
import { renderReport } from "../../verify/report-text.js";
import { LocalWarehouse } from "../../warehouse/local/local-warehouse.js";
import type { WarehouseView } from "../../warehouse/warehouse.js";
import { openState } from "../open-state.js";
import { commandConfig, requireState } from "./command-config.js";

export interface VerifyFlags extends Record<string, unknown> {
  json?: boolean;
  repair?: boolean;
}

/**
 * `sluice verify`: reconciles state ↔ manifests ↔ warehouse and says what
 * drifted; `--repair` rewrites missing manifest lines and removes temp
 * files and outputs of files that were never stored. Exit 0 clean, 1 drift left, 2 unusable setup. Run it with sluice
 * stopped for a report that is exact: files in flight are counted as such,
 * and the work area of a running node is not a leftover.
 */
export async function verifyCommand(flags: VerifyFlags): Promise<number> {
  let config: RunConfig;
  let stuckAfterMs: number;
  try {
    const read = commandConfig(flags, ["stuckMinutes"]);
    config = read.config;
    stuckAfterMs = read.options.values.stuckMinutes;
    requireState(config);
  } catch (err) {
    process.stderr.write(`sluice: ${(err as Error).message}\n`);
    return 2;
  }
  // The report is stdout; anything logged goes to stderr.
  const log = createLogger("warn", 2);
  for (const warning of config.warnings) log.warn({ event: "config_warning", warning });
  let store: StateStore;
  let view: WarehouseView;
  try {
    store = await openState(config, log);
    if (config.s3) {
      // dryRun: opening must not abort uploads or touch anything; the bucket is checked right after.
      const { openS3Warehouse } = await import("../open-s3.js");
      const s3 = await openS3Warehouse(config.s3, log, new AbortController().signal, { dryRun: true });
      await s3.check();
      view = s3.view(config.scratch);
    } else {
      view = new LocalWarehouse(config.warehouse, new DirSyncer()).view(join(config.warehouse, ".sluice-tmp"));
    }
  } catch (err) {
    process.stderr.write(`sluice: cannot verify: ${(err as Error).message}\n`);
    return 2;
  }
  try {
    const index = await indexManifests(config.manifests);
    const { report, records } = await reconcile(
      store,
      view,
      { root: config.manifests, index },
      { stuckAfterMs, ...(config.s3 ? {} : { localWarehouse: config.warehouse }) },
    );
    if (flags.repair) {
      const writer = new ManifestWriter(config.manifests, new DirSyncer());
      const repaired: Problem[] = [];
      try {
        for (const p of report.problems) {
          if (p.kind === "manifest_missing" && p.repairable && p.ingest_id) {
            const rec = records.get(p.ingest_id);
            if (!rec) continue;
            const path = rec.manifestPath ?? writer.pathFor(new Date(rec.ingestedAt ?? rec.updatedAt));
            const invalid =
              rec.processing && !rec.duplicateOf ? await store.invalidRows(rec.ingestId, 0, MANIFEST_INVALID_ROWS) : [];
            await writer.append(path, manifestLine(rec, invalid));
            repaired.push({ ...p, path });
          } else if (p.kind === "temp_file" && p.path) {
            await view.removeTemp(p.path);
            repaired.push(p);
          } else if (p.kind === "orphan_output" && p.path && view.removeOutput) {
            await view.removeOutput(p.path);
            repaired.push(p);
          }
        }
      } finally {
        await writer.close();
      }
      report.repaired = repaired;
      report.problems = report.problems.filter(
        (p) =>
          !repaired.some(
            (r) =>
              r.kind === p.kind &&
              r.ingest_id === p.ingest_id &&
              ((r.kind !== "temp_file" && r.kind !== "orphan_output") || r.path === p.path),
          ),
      );
      report.ok = report.problems.length === 0;
    }
    process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : renderReport(report));
    return report.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}
