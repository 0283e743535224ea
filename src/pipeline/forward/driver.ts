import { SluiceError } from "../../core/errors.js";
import { newIngestId } from "../../core/ids.js";
import { crashPoint } from "../../durable/crash-points.js";
import type { Candidate } from "../../watch/candidate.js";
import type { IngestContext } from "../context.js";
import { emitFinished } from "../file-events.js";
import type { Outcome } from "../outcomes.js";
import type { MemberIngest, MemberOutcome } from "../processing/archive-members.js";
import { processorFor } from "../processing/process-file.js";
import type { BatchLane } from "../runner.js";
import { decideOnce, decideStage } from "../stages/decide.js";
import { finishStages } from "../stages/finish.js";
import { handleFailure } from "./fail.js";
import { closeSource, type Item, newItem, provenance, srcOf } from "./item.js";
import { landStep } from "./land.js";
import { readStep, SMALL_FILE_MAX_BYTES } from "./read.js";

/** Files per batch of the small-file lane, and batches at once (each file still counts against --concurrency). */
const BATCH_FILES = 128;
const BATCH_LANES = 2;

/**
 * The forward path, the one sequence every new file takes: read (open, hash, copy) → decide (claim the content,
 * reserve the name) → land (into the warehouse, `stored`) → the tail (manifest line, release, terminal state).
 * Each step takes all of the run's files at once, so that a batch of small files shares its system-call passes,
 * group commits and fsyncs, and one large file is simply a batch of one: there is no second path for either.
 * (Records already at rest take advance.ts's table from their durable state; the steps below are the same ones
 * it ends in.) A file that leaves the common case mid-batch (its content in flight for another file, its name
 * taken, its source replaced) takes the rest of that step on its own and then the following steps, without
 * holding up the batch; a file that fails goes to handleFailure, the one place that judges failures.
 */
export async function ingestFiles(
  ctx: IngestContext,
  cs: Candidate[],
  /** Called once the run waits for its first commit (the runner then starts the next batch). */
  waiting: () => void = () => undefined,
): Promise<Outcome[]> {
  const run = new ForwardRun(ctx, waiting);
  const items = cs.map((c, i) => newItem(i, c, ctx.uploads?.idFor(c.identity) ?? newIngestId()));
  ctx.log.debug({ event: "batch_started", files: cs.length });
  await run.steps(items, 0);
  await run.settled();
  return items.map((it) => {
    if (it.src) closeSource(it.src);
    const outcome = it.outcome ?? "aborted";
    // A final outcome ends an API upload's wait; "not-ready" and "aborted" keep its id for the next attempt.
    if (ctx.uploads && outcome !== "not-ready" && outcome !== "aborted") ctx.uploads.settled(it.c.identity);
    return outcome;
  });
}

/**
 * An archive member, copied out of its archive and hashed by the archive processor (its read step), through the
 * same steps from the decision on. A member at fault (its name cannot be placed, its own processor refused it)
 * fails alone and the archive goes on; anything else (the state store, the warehouse, a shutdown) is the
 * archive's failure and is thrown to it.
 */
export const ingestMember: MemberIngest = async (ctx, m) => {
  const run = new ForwardRun(ctx, () => undefined);
  const it: Item = {
    ...newItem(
      0,
      { path: m.file.sourcePath, name: m.file.name, identity: m.src.identity, sidecar: null },
      m.file.ingestId,
    ),
    file: m.file,
    startedAt: m.startedAt,
    depth: m.depth,
    member: true,
    src: m.src,
  };
  await run.steps([it], 1);
  await run.settled();
  const thrown = run.archiveErrors.get(it);
  if (thrown !== undefined) throw thrown;
  const outcome = it.outcome;
  if (outcome === "ingested" || outcome === "duplicate" || outcome === "failed") return outcome satisfies MemberOutcome;
  throw new Error(`internal: archive member ${it.file.ingestId} ended ${outcome ?? "unfinished"}`);
};

/** The small-file lane of the runner: which files share a run of ingestFiles, and how many runs at once. */
export function smallFileLane(ctx: IngestContext): BatchLane {
  const maxBytes = Math.min(SMALL_FILE_MAX_BYTES, ctx.config.inlineHashMaxBytes);
  // Batched: small files without a processor, to a local warehouse (the plain move) or to S3 (each uploads on its
  // own, through the request limiter, inside the batch's land step; the batch shares the decide and tail commits).
  // A file with a processor runs as a batch of one, so a slow conversion holds up nothing else. On a state shared
  // by several nodes the service wraps `run` in the cluster member's guardBatch, which claims the names first.
  return {
    accepts: (c) => c.sidecar === null && c.identity.size <= maxBytes && processorFor(ctx, c.name, 0) === null,
    run: (cs, waiting) => ingestFiles(ctx, cs, waiting),
    maxFiles: BATCH_FILES,
    lanes: BATCH_LANES,
  };
}

type Step = [stage: string, run: (items: Item[]) => Promise<Item[]>];

/** One run of the forward path over a set of files, with the files that left it to go on alone. */
class ForwardRun {
  private readonly pending: Promise<void>[] = [];
  /** Errors of archive members that are their archive's to answer for (ingestMember throws them). */
  readonly archiveErrors = new Map<Item, unknown>();
  /** The steps, in order; a step's index is where a file that leaves it mid-way goes on from (`aloneThen`). */
  private readonly sequence: Step[];

  constructor(
    private readonly ctx: IngestContext,
    private readonly waiting: () => void,
  ) {
    this.sequence = [
      ["hash", (items) => readStep(ctx, items, this.fail)],
      ["decide", (items) => this.decide(items)],
      ["store", (items) => landStep(ctx, items, { fail: this.fail, alone: this.aloneThen(3), members: ingestMember })],
      ["finish", (items) => this.finish(items)],
    ];
  }

  /** Takes `items` through the steps from `from` on. An error a step raises for all of them fails each. */
  async steps(items: Item[], from: number): Promise<void> {
    let live = items;
    for (let s = from; s < this.sequence.length && live.length > 0; s++) {
      const [stage, step] = this.sequence[s] as Step;
      const t0 = performance.now();
      const entered = live.length;
      const legs = live.map((it) => it.leg);
      try {
        live = await step(live);
      } catch (err) {
        live.forEach((it, k) => {
          if (it.outcome === null && it.leg === legs[k]) this.fail(it, err);
        });
        return;
      }
      const seconds = (performance.now() - t0) / 1000;
      for (let k = 0; k < entered; k++) this.ctx.metrics.observeStage(stage, seconds);
    }
  }

  /** Every file's outcome is known (the ones that went on alone included). */
  async settled(): Promise<void> {
    for (let k = 0; k < this.pending.length; k++) await this.pending[k];
  }

  /** The file leaves the flow; handleFailure decides its outcome. */
  readonly fail = (it: Item, err: unknown): void => {
    if (it.outcome !== null) return;
    it.outcome = "aborted";
    if (it.member && !(err instanceof SluiceError && it.decision !== null && !it.stored)) {
      this.archiveErrors.set(it, err);
      return;
    }
    this.pending.push(
      handleFailure(this.ctx, it, err).then(
        (outcome) => {
          it.outcome = outcome;
        },
        (e: unknown) => {
          // Failing the file failed too (a shutdown mid-quarantine): a member's archive answers for it.
          if (it.member) this.archiveErrors.set(it, e);
          else this.ctx.log.error({ event: "file_error", ingest_id: it.file.ingestId, error: (e as Error).message });
        },
      ),
    );
  };

  /** A file takes `work` (the rest of the current step) on its own, then the steps from `next` on. */
  private aloneThen(next: number) {
    return (it: Item, work: () => Promise<void>): void => {
      it.leg++;
      this.pending.push(
        (async () => {
          try {
            await work();
          } catch (err) {
            this.fail(it, err);
            return;
          }
          if (it.outcome === null) await this.steps([it], next);
        })(),
      );
    };
  }

  /**
   * Claims each content and reserves each name: the first round for all files together (one group commit).
   * Content in flight for another file (possibly one of this batch) waits on its own.
   */
  private async decide(items: Item[]): Promise<Item[]> {
    // Settled one by one: an error of one file's decision (a bug, a fenced row) fails that file, not the batch.
    const asked = Promise.allSettled(items.map((it) => decideOnce(this.ctx, it.file, srcOf(it).sha256)));
    this.waiting();
    const got = await asked;
    const decided: Item[] = [];
    const alone = this.aloneThen(2);
    items.forEach((it, k) => {
      const settled = got[k];
      if (settled?.status === "rejected") {
        this.fail(it, settled.reason);
        return;
      }
      const d = settled?.value;
      if (d?.kind === "wait") {
        alone(it, async () => {
          it.decision = await decideStage(this.ctx, it.file, srcOf(it).sha256);
          crashPoint("after-hash");
        });
      } else if (d) {
        it.decision = d;
        decided.push(it);
      }
    });
    crashPoint("after-hash", decided.length);
    return decided;
  }

  /** The tail for all files whose content is safe (finishStages); each takes its terminal outcome. */
  private async finish(items: Item[]): Promise<Item[]> {
    const recs = await finishStages(
      this.ctx,
      items.map((it) => ({
        record: it.known ?? it.file.ingestId,
        // Only a rename into a directory warehouse takes the source out of staging; a copy or an upload leaves it
        // for the tail. A member has nothing in staging.
        sourceMoved: it.member || (it.stored && !srcOf(it).tmpPath && this.ctx.warehouse.directory !== null),
      })),
    );
    recs.forEach((rec, k) => {
      const it = items[k] as Item;
      emitFinished(this.ctx, rec, it.startedAt, provenance(it));
      it.outcome = rec.state === "duplicate" ? "duplicate" : "ingested";
    });
    return [];
  }
}
