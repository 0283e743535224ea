import { checkDirectories, createDirectories } from "../../config/check-dirs.js";
import type { RunConfig } from "../../config/config.js";
import { SluiceError } from "../../core/errors.js";
import { DirSyncer } from "../../durable/fsync.js";
import { hashPath } from "../../hashing/hash-path.js";
import { Hasher } from "../../hashing/hasher.js";
import { HashWorkerPool } from "../../hashing/worker-pool.js";
import { type RequeueOutcome, requeueFile } from "../../requeue/requeue-file.js";
import { sinceInstant } from "../../requeue/since.js";
import type { StateStore } from "../../store/state-store.js";
import { createLogger } from "../../telemetry/logger.js";
import { openState } from "../open-state.js";
import { commandConfig } from "./command-config.js";

interface RequeueChoice {
  failed: boolean;
  code: string;
  since: string | null;
  json: boolean;
}

/**
 * `sluice requeue ID…` / `sluice requeue --failed [--code C] [--since T]`: hands quarantined files back to the
 * pipeline (src/requeue/requeue-file.ts). It records and moves only; a running `serve`/`run` on this state (any
 * node) or the next `sluice run` ingests them, linked to their failed attempt. It never runs recovery and never
 * touches another process's files in flight. Exit 0: every file asked was requeued (or already was); 1: some could
 * not be; 2: the setup is unusable.
 */
export async function requeueCommand(ids: string[], flags: Record<string, unknown>): Promise<number> {
  let config: RunConfig;
  let choice: RequeueChoice;
  try {
    const read = commandConfig(flags, ["failed", "code", "since", "json"]);
    config = read.config;
    const v = read.options.values;
    choice = { failed: v.failed, code: v.code, since: sinceInstant(v.since, Date.now()), json: v.json };
    if (choice.failed === ids.length > 0) {
      throw new SluiceError("SLUICE_ERR_CONFIG", "give the ids to requeue, or --failed (not both)");
    }
    if (!choice.failed && (choice.code || choice.since)) {
      throw new SluiceError("SLUICE_ERR_CONFIG", "--code and --since narrow --failed: give --failed too");
    }
    checkDirectories(config);
  } catch (err) {
    process.stderr.write(`sluice: ${(err as Error).message}\n`);
    return 2;
  }
  const log = createLogger("warn", 2);
  let store: StateStore;
  try {
    createDirectories(config);
    store = await openState(config, log);
  } catch (err) {
    process.stderr.write(`sluice: cannot requeue: ${(err as Error).message}\n`);
    return 2;
  }
  const dirs = new DirSyncer();
  // A hash only for a row that failed before it was hashed: the pool's thread is started then, not before.
  let pool: HashWorkerPool | null = null;
  const hash = (path: string) => {
    pool ??= new HashWorkerPool(1);
    return hashPath(new Hasher(pool, config.inlineHashMaxBytes), path);
  };
  const deps = { store, input: config.input, dirs, hash };
  const outcomes: RequeueOutcome[] = [];
  try {
    const report = (o: RequeueOutcome) => {
      outcomes.push(o);
      if (!choice.json) process.stdout.write(`${describe(o)}\n`);
    };
    if (choice.failed) {
      let after: { updatedAt: string; ingestId: string } | undefined;
      for (;;) {
        const page = await store.failedFiles({
          limit: 200,
          ...(choice.code ? { code: choice.code } : {}),
          ...(choice.since ? { since: choice.since } : {}),
          ...(after ? { after } : {}),
        });
        for (const rec of page) report(await requeueFile(deps, rec.ingestId));
        const last = page.at(-1);
        if (!last) break;
        after = { updatedAt: last.updatedAt, ingestId: last.ingestId };
      }
    } else {
      for (const id of [...new Set(ids)]) report(await requeueFile(deps, id));
    }
  } catch (err) {
    process.stderr.write(`sluice: cannot requeue: ${(err as Error).message}\n`);
    return 2;
  } finally {
    await store.close();
    await (pool as HashWorkerPool | null)?.close();
  }
  const refused = outcomes.filter((o) => o.result === "refused").length;
  if (choice.json) {
    process.stdout.write(`${JSON.stringify({ files: outcomes, requeued: outcomes.length - refused, refused })}\n`);
  } else if (outcomes.length === 0) {
    process.stdout.write("nothing to requeue\n");
  }
  return refused > 0 ? 1 : 0;
}

/** One line per file. */
function describe(o: RequeueOutcome): string {
  switch (o.result) {
    case "pending":
      return `${o.id} → ${o.name}: requeued (back in staging, pending ingestion)`;
    case "already":
      return `${o.id} → ${o.newId}: already requeued (${o.name})`;
    case "refused":
      return `${o.id}: not requeued: ${o.reason} (${o.message})`;
  }
}
