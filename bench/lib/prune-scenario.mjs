// Scenario m (issue 21): what `sluice prune` gives back. Ingests N small distinct files, prunes every finished
// row (`--older-than 0s`), and reports the state's bytes per file before and after, the prune's wall time, and
// that a sample of the same contents dropped again is still recorded as duplicates of their first ingest.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { freshDir, makeSmallFiles, rmrf } from "./data.mjs";
import { syncAll } from "./proc.mjs";
import { makeLayout, parseLog, runSluiceOnce, SLUICE_BIN, sluiceArgs, sluiceEnv } from "./sluice.mjs";
import { summarize } from "./stats.mjs";

/** @typedef {import("./scenarios.mjs").Ctx} Ctx */
/** @typedef {import("./scenarios.mjs").Row} Row */

/**
 * @param {Ctx} ctx
 */
export async function pruneScenario(ctx) {
  const n = ctx.sizes.m;
  const size = 64;
  const sample = Math.min(1000, n);
  const root = freshDir(join(ctx.base, "m"));
  try {
    const l = makeLayout(root);
    makeSmallFiles(l.staging, n, size);
    const kept = join(root, "again");
    mkdirSync(kept, { recursive: true });
    const names = readdirSync(l.staging).slice(0, sample);
    for (const name of names) copyFileSync(join(l.staging, name), join(kept, `again-${name}`));
    syncAll();
    await runSluiceOnce(l, { expectFiles: n, stabilitySeconds: 0, timeoutMs: 120_000 + n * 20, rss: false });

    const state = ["--warehouse", l.warehouse, "--manifests", l.manifests, "--state-path", l.statePath];
    const t0 = performance.now();
    const p = spawnSync(process.execPath, [SLUICE_BIN, "prune", ...state, "--older-than", "0s", "--json"], {
      cwd: root,
      env: sluiceEnv(l),
      encoding: "utf8",
      timeout: 600_000,
    });
    const pruneMs = performance.now() - t0;
    if (p.status !== 0) throw new Error(`sluice prune exited ${p.status ?? p.signal}: ${p.stderr}`);
    const report = JSON.parse(p.stdout);
    if (report.rows_deleted.files !== n) throw new Error(`prune deleted ${report.rows_deleted.files} of ${n} rows`);

    // The same contents again: each must be a duplicate (of the pruned original), none stored twice.
    for (const name of names) copyFileSync(join(kept, `again-${name}`), join(l.staging, `again-${name}`));
    const again = spawnSync(process.execPath, sluiceArgs(l, 0, true), {
      cwd: root,
      env: sluiceEnv(l),
      encoding: "utf8",
      timeout: 600_000,
    });
    if (again.status !== 0) throw new Error(`sluice --once after prune exited ${again.status}: ${again.stderr}`);
    const log = parseLog(again.stdout, false);
    if (log.duplicates !== sample || log.ingested !== 0) {
      throw new Error(
        `after prune: ${log.duplicates} of ${sample} re-dropped files were duplicates, ${log.ingested} new`,
      );
    }
    const v = spawnSync(process.execPath, [SLUICE_BIN, "verify", ...state], {
      cwd: root,
      env: sluiceEnv(l),
      encoding: "utf8",
    });
    if (v.status !== 0) throw new Error(`sluice verify after prune exited ${v.status}: ${v.stdout}${v.stderr}`);
    ctx.log(
      `  m: ${n} files; state ${report.bytes.before} → ${report.bytes.after} bytes ` +
        `(${report.bytes.per_file_before} → ${report.bytes.per_file_after} per file), prune ${(pruneMs / 1000).toFixed(1)} s ` +
        `in ${report.batches} batches (${report.reclaim?.method}); ${sample} re-dropped: all duplicates; verify clean`,
    );
    const label = `m prune ${n.toLocaleString("en-US")} × ${size} B files`;
    /** @type {(id: string, what: string, unit: string, x: number) => Row} */
    const row = (id, what, unit, x) => ({
      id: `m.${id}`,
      scenario: "m",
      label: `${label}: ${what}`,
      unit,
      sluice: summarize([x]),
      anchor: null,
      ratio: null,
      target: null,
    });
    return {
      id: "m",
      params: { files: n, file_bytes: size, redropped: sample },
      runs: [{ run: 1, prune: report, prune_ms: pruneMs, redropped_duplicates: log.duplicates }],
      rows: [
        row("bytes_per_file_before", "state bytes per file before prune", "B", report.bytes.per_file_before),
        row("bytes_per_file_after", "state bytes per file after prune", "B", report.bytes.per_file_after),
        row("prune_seconds", "prune wall time (delete + incremental vacuum)", "s", pruneMs / 1000),
      ],
      sluiceRss: [],
    };
  } finally {
    rmrf(root);
  }
}
