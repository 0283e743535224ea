import { join } from "node:path";
import type { FileRecord } from "../core/file-record.js";
import { Limiter } from "../core/limiter.js";
import type { StateStore } from "../store/state-store.js";
import type { WarehouseView } from "../warehouse/warehouse.js";
import { collisionName, lastSegment, OUTPUT_SUFFIX, placementFor, siblingPath } from "../warehouse/warehouse-paths.js";
import type { ManifestIndex } from "./manifest-index.js";

export type ProblemKind =
  | "object_missing"
  | "object_mismatch"
  | "output_missing"
  | "manifest_missing"
  | "manifest_doubled"
  | "manifest_orphan"
  | "manifest_unreadable"
  | "orphan_object"
  | "orphan_output"
  | "temp_file"
  | "stuck";

export interface Problem {
  kind: ProblemKind;
  ingest_id?: string;
  path?: string;
  detail: string;
  /**
   * `--repair` fixes it (a missing manifest line is rewritten from state; a temp file is removed; an output of a
   * failed file, e.g. the Parquet of a file that vanished before its rename, is removed).
   */
  repairable: boolean;
}

export interface VerifyReport {
  version: 1;
  warehouse: string;
  manifests: string;
  files: { total: number; done: number; duplicate: number; failed: number; in_flight: number };
  checked: {
    objects: number;
    outputs: number;
    manifest_lines: number;
    warehouse_objects: number;
    /** Originals whose files rows `sluice prune` deleted: their content rows still account for them. */
    pruned_originals: number;
  };
  problems: Problem[];
  repaired: Problem[];
  ok: boolean;
}

const FINAL = new Set(["done", "duplicate", "failed"]);

/** Every row of the state, oldest page last (the API's keyset pages, so memory is one page at a time). */
export async function* allRecords(store: StateStore): AsyncGenerator<FileRecord> {
  let after: { discoveredAt: string; ingestId: string } | undefined;
  for (;;) {
    const page = await store.listFiles({ limit: 1000, ...(after ? { after } : {}) });
    yield* page;
    const last = page.at(-1);
    if (page.length < 1000 || !last) return;
    after = { discoveredAt: last.discoveredAt, ingestId: last.ingestId };
  }
}

/**
 * Reconciles state ↔ manifests ↔ warehouse. Stored originals are checked
 * byte for byte (size and SHA-256), every recorded output must exist, every
 * finished file has exactly one manifest line and every line a file, nothing
 * in the warehouse is unaccounted for, no temp file is left behind, and no
 * file sits unfinished for longer than `stuckAfterMs`.
 */
export async function reconcile(
  store: StateStore,
  view: WarehouseView,
  manifests: { root: string; index: ManifestIndex },
  opts: {
    stuckAfterMs: number;
    now?: number;
    parallel?: number;
    /** A directory warehouse: where a failed file's outputs were placed is worked out again (for `orphan_output`). */
    localWarehouse?: string;
  },
): Promise<{ report: VerifyReport; records: Map<string, FileRecord> }> {
  const now = opts.now ?? Date.now();
  const problems: Problem[] = [];
  const records = new Map<string, FileRecord>();
  const expected = new Set<string>();
  /** Every path a row reserved for its raw file (whatever its state): never taken for an output. */
  const reserved = new Set<string>();
  /** Where each failed file's outputs could be (both names outputPath may give): output path → ingest id. */
  const outputSlots = new Map<string, string>();
  const files = { total: 0, done: 0, duplicate: 0, failed: 0, in_flight: 0 };
  const checked = {
    objects: 0,
    outputs: 0,
    manifest_lines: manifests.index.lines,
    warehouse_objects: 0,
    pruned_originals: 0,
  };
  const limiter = new Limiter(opts.parallel ?? 4);
  const pending: Promise<void>[] = [];

  for await (const r of allRecords(store)) {
    records.set(r.ingestId, r);
    files.total++;
    if (r.state === "done") files.done++;
    else if (r.state === "duplicate") files.duplicate++;
    else if (r.state === "failed") files.failed++;
    else files.in_flight++;
    if (r.warehousePath && !r.duplicateOf) expected.add(r.warehousePath);
    for (const o of r.processing?.outputs ?? []) expected.add(o.path);
    if (r.warehousePath) reserved.add(r.warehousePath);
    // Only a failed file's: it stored nothing, so nothing beside its name is its to keep (W5). A done file's
    // unrecorded neighbour stays an orphan_object, for a person to judge.
    if (r.state === "failed" && r.sha256 && !r.duplicateOf) {
      for (const raw of rawPathsOf(r, opts.localWarehouse)) {
        for (const slot of outputSlotsOf(raw, r.sha256)) outputSlots.set(slot, r.ingestId);
      }
    }

    const lines = manifests.index.byId.get(r.ingestId)?.count ?? 0;
    if (r.state === "done" || r.state === "duplicate") {
      if (lines === 0) {
        problems.push({
          kind: "manifest_missing",
          ingest_id: r.ingestId,
          path: r.sourcePath,
          detail: `finished as ${r.state} but has no manifest line`,
          repairable: true,
        });
      }
    }
    if (lines > 1) {
      problems.push({
        kind: "manifest_doubled",
        ingest_id: r.ingestId,
        path: r.sourcePath,
        detail: `${lines} manifest lines for one file`,
        repairable: false,
      });
    }
    problems.push(...reprocessedLineProblems(r, manifests.index));
    if (!FINAL.has(r.state) && now - Date.parse(r.updatedAt) > opts.stuckAfterMs) {
      problems.push({
        kind: "stuck",
        ingest_id: r.ingestId,
        path: r.sourcePath,
        detail: `in state ${r.state} since ${r.updatedAt}: no node finished it (is every node running?)`,
        repairable: false,
      });
    }
    if (r.state !== "done") continue;
    if (r.warehousePath && !r.duplicateOf) {
      const path = r.warehousePath;
      pending.push(
        limiter.run(async () => {
          checked.objects++;
          const o = await view.inspect(path);
          if (!o) {
            problems.push({
              kind: "object_missing",
              ingest_id: r.ingestId,
              path,
              detail: "recorded as stored but not in the warehouse",
              repairable: false,
            });
          } else if (o.size !== r.size || o.sha256 !== r.sha256) {
            problems.push({
              kind: "object_mismatch",
              ingest_id: r.ingestId,
              path,
              detail: `holds ${o.size} bytes with SHA-256 ${o.sha256 ?? "(none)"}; state says ${r.size} bytes, ${r.sha256}`,
              repairable: false,
            });
          }
        }),
      );
    }
    for (const out of r.processing?.outputs ?? []) {
      pending.push(
        limiter.run(async () => {
          checked.outputs++;
          if (!(await view.exists(out.path))) {
            problems.push({
              kind: "output_missing",
              ingest_id: r.ingestId,
              path: out.path,
              detail: `the ${out.kind} output processing recorded is not in the warehouse`,
              repairable: false,
            });
          }
        }),
      );
    }
  }
  const pruned = await checkPruned(store, view, limiter, problems);
  checked.pruned_originals = pruned.bySha.size;
  checked.objects += pruned.bySha.size;
  await Promise.all(pending);

  for (const [id, e] of manifests.index.byId) {
    // A pruned duplicate's line: its original's row, pruned or not, holds the same content.
    const prunedDuplicate = e.duplicateOf !== undefined && records.get(e.duplicateOf)?.sha256 === e.sha256;
    if (!records.has(id) && (pruned.accounts(id, e) || prunedDuplicate)) {
      if (e.count > 1) {
        problems.push({
          kind: "manifest_doubled",
          ingest_id: id,
          path: e.files.join(", "),
          detail: `${e.count} manifest lines for one file (pruned from the state)`,
          repairable: false,
        });
      }
      continue;
    }
    if (!records.has(id)) {
      problems.push({
        kind: "manifest_orphan",
        ingest_id: id,
        path: e.files.join(", "),
        detail: "a manifest line for a file the state does not know",
        repairable: false,
      });
    }
  }
  for (const id of manifests.index.reprocessed.keys()) {
    if (!records.has(id)) {
      problems.push({
        kind: "manifest_orphan",
        ingest_id: id,
        detail: "a reprocessed manifest line for a file the state does not know",
        repairable: false,
      });
    }
  }
  for (const u of manifests.index.unreadable) {
    problems.push({
      kind: "manifest_unreadable",
      path: `${u.file}:${u.line}`,
      detail: "not a manifest line (a torn write never repaired, or foreign content)",
      repairable: false,
    });
  }
  for await (const path of view.objects()) {
    checked.warehouse_objects++;
    if (expected.has(path) || [...dirsOf(path)].some((d) => expected.has(d))) continue;
    if (pruned.paths.has(path) || [...dirsOf(path)].some((d) => pruned.paths.has(d))) continue;
    const owner = reserved.has(path) ? undefined : [path, ...dirsOf(path)].find((p) => outputSlots.has(p));
    if (owner !== undefined) {
      problems.push({
        kind: "orphan_output",
        ingest_id: outputSlots.get(owner) as string,
        path,
        detail: "an output of a file that failed or vanished: its file was never stored",
        repairable: view.removeOutput !== undefined,
      });
      continue;
    }
    problems.push({
      kind: "orphan_object",
      path,
      detail: "in the warehouse but not recorded in the state",
      repairable: false,
    });
  }
  for (const path of await view.temps()) {
    problems.push({ kind: "temp_file", path, detail: "left in the work area", repairable: true });
  }
  const report: VerifyReport = {
    version: 1,
    warehouse: view.root,
    manifests: manifests.root,
    files,
    checked,
    problems,
    repaired: [],
    ok: problems.length === 0,
  };
  return { report, records };
}

/**
 * A reprocessed file (issue 21) has one `reprocessed` line per generation after the first, 1 up to its current
 * one: a generation with none (a reprocess cut off after its switch and not recovered yet) or with two is drift.
 */
function reprocessedLineProblems(r: FileRecord, index: ManifestIndex): Problem[] {
  const gens = index.reprocessed.get(r.ingestId);
  const current = r.generation ?? 0;
  const out: Problem[] = [];
  for (let g = 1; g <= Math.max(current, ...(gens?.keys() ?? [])); g++) {
    const n = gens?.get(g) ?? 0;
    if (n === 1 || (n === 0 && (g > current || r.state !== "done"))) continue;
    out.push({
      kind: n === 0 ? "manifest_missing" : "manifest_doubled",
      ingest_id: r.ingestId,
      path: r.sourcePath,
      detail: `${n} reprocessed manifest lines for generation ${g}`,
      repairable: false,
    });
  }
  return out;
}

const DAY_MS = 86_400_000;

/**
 * Where a file's raw copy is or would have been (a failed row no longer holds the path it
 * reserved, so the placement is worked out again from its name and hash, in each day's partition from its
 * discovery to its end — the name was reserved in between — under both the plain and the content-tagged name).
 */
function rawPathsOf(r: FileRecord, localWarehouse: string | undefined): string[] {
  if (r.warehousePath) return [r.warehousePath];
  if (!localWarehouse || !r.sha256) return [];
  const out: string[] = [];
  const from = Date.parse(r.discoveredAt);
  const to = Math.min(Date.parse(r.updatedAt), from + 31 * DAY_MS);
  for (let t = from; t < to + DAY_MS; t += DAY_MS) {
    const p = placementFor(localWarehouse, r.name, r.sha256, new Date(Math.min(t, to)));
    out.push(join(p.partitionDir, p.baseName), join(p.partitionDir, p.collisionName));
  }
  return out;
}

/** Both paths an output of the raw file at `rawPath` may have: `NAME.suffix`, or its content-tagged name. */
function* outputSlotsOf(rawPath: string, sha256: string): Generator<string> {
  for (const suffix of Object.values(OUTPUT_SUFFIX)) {
    const wanted = `${rawPath}${suffix}`;
    yield wanted;
    yield siblingPath(wanted, collisionName(lastSegment(wanted), sha256));
  }
}

/** The parent paths of `path`: an output recorded as a directory (`x.sql.tables`) covers what is inside. */
function* dirsOf(path: string): Generator<string> {
  for (let i = path.lastIndexOf("/"); i > 0; i = path.lastIndexOf("/", i - 1)) yield path.slice(0, i);
}

/**
 * Originals pruned from the state (`sluice prune`): their content rows keep the SHA-256, the first ingest id and
 * the warehouse path. Each stored copy is still checked (present, same SHA-256); it and the outputs beside it are
 * not orphans; the manifest line of a pruned file is accounted for when its content row names it (the original's
 * own line) or names the original it duplicated (a pruned duplicate's line).
 */
async function checkPruned(store: StateStore, view: WarehouseView, limiter: Limiter, problems: Problem[]) {
  const bySha = new Map<string, string>();
  const paths = new Set<string>();
  const checks: Promise<void>[] = [];
  for (let after = ""; ; ) {
    const page = await store.prunedOriginals(after, 1000);
    for (const p of page) {
      bySha.set(p.sha256, p.ingestId);
      const wp = p.warehousePath;
      if (!wp) continue;
      paths.add(wp);
      for (const slot of outputSlotsOf(wp, p.sha256)) paths.add(slot);
      checks.push(
        limiter.run(async () => {
          const o = await view.inspect(wp);
          if (!o) {
            problems.push({
              kind: "object_missing",
              ingest_id: p.ingestId,
              path: wp,
              detail: "a pruned original's stored copy is not in the warehouse",
              repairable: false,
            });
          } else if (o.sha256 !== p.sha256) {
            problems.push({
              kind: "object_mismatch",
              ingest_id: p.ingestId,
              path: wp,
              detail: `holds SHA-256 ${o.sha256 ?? "(none)"}; the pruned original's content row says ${p.sha256}`,
              repairable: false,
            });
          }
        }),
      );
    }
    const last = page.at(-1);
    if (page.length < 1000 || !last) break;
    after = last.sha256;
  }
  await Promise.all(checks);
  const accounts = (id: string, e: { sha256?: string; duplicateOf?: string }) => {
    const original = e.sha256 ? bySha.get(e.sha256) : undefined;
    return original !== undefined && (original === id || original === e.duplicateOf);
  };
  return { bySha, paths, accounts };
}
