import { sleep } from "../../core/retry.js";
import { faultPoint } from "../../durable/crash-points.js";
import type { Decision, NewFile } from "../../store/state-store.js";
import type { IngestContext } from "../context.js";
import { NotReadyError } from "../outcomes.js";
import { retryUntilDone } from "../retry.js";

/**
 * How long a file waits for another file with the same bytes to be stored.
 * Bounded: the owner may be a file adopted from a dead node, waiting in turn
 * for this file's staging path; handing this file back breaks that cycle, and
 * it comes round again with the next scan.
 */
const MAX_WAIT_MS = 120_000;

export type FinalDecision = Exclude<Decision, { kind: "wait" }> & { ingestedAt: string; manifestPath: string };

/**
 * Claims the content or finds it already ingested, and reserves the warehouse
 * name: one durable commit before anything moves. While another file with the
 * same bytes is still in flight we wait for it, so a duplicate is only ever
 * released once its original is safely stored.
 */
export async function decideStage(ctx: IngestContext, file: NewFile, sha256: string): Promise<FinalDecision> {
  const giveUpAt = Date.now() + MAX_WAIT_MS;
  for (let round = 1; ; round++) {
    const d = await decideOnce(ctx, file, sha256);
    if (d.kind !== "wait") return d;
    ctx.log.debug({ event: "content_in_flight", ingest_id: file.ingestId, owner: d.ownerId });
    if (Date.now() > giveUpAt) throw new NotReadyError(`the same content has been in flight (${d.ownerId}) too long`);
    await sleep(Math.min(20 * round, 500), ctx.signal);
  }
}

/**
 * One round of decideStage: the first round of many files is asked together (their decisions share one group
 * commit); only a file whose content is in flight for another goes on to wait, on its own.
 */
export async function decideOnce(
  ctx: IngestContext,
  file: NewFile,
  sha256: string,
): Promise<FinalDecision | Extract<Decision, { kind: "wait" }>> {
  const at = new Date();
  const p = ctx.warehouse.placement(file.name, sha256, at);
  const placement = { ...p, ingestedAt: at.toISOString(), manifestPath: ctx.manifests.pathFor(at) };
  const d = await retryUntilDone(
    "state: decide",
    async () => {
      faultPoint("decide", file.name);
      return ctx.store.decide(file, sha256, placement);
    },
    ctx.log,
    ctx.signal,
  );
  if (d.kind === "wait") return d;
  return { ...d, ingestedAt: placement.ingestedAt, manifestPath: placement.manifestPath };
}
