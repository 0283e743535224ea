import { SluiceError } from "../../core/errors.js";
import type { ReprocessStart } from "../state-store.js";
import type { WriteOp } from "../write-op.js";
import { enqueueEvents, fileSnapshot } from "./outbox.js";
import { ask, type Rule } from "./steps.js";
import type { StoreDialect } from "./store-dialect.js";

type ReprocessOp = Extract<
  WriteOp,
  { op: "reprocessBegin" | "reprocessPlacing" | "reprocessSwitch" | "reprocessTouch" | "reprocessEnd" }
>;

const takenOver = (id: string, owner: string) =>
  new SluiceError(
    "SLUICE_ERR_REPROCESS_BUSY",
    `the reprocess of ${id} by ${owner} was taken over by another process (it was presumed cut off)`,
  );

/**
 * The reprocess rules (issue 21), once for both dialects. At most one reprocess of a file is in flight: its
 * intent row (primary key: the file) is taken by a compare-and-set on the file's generation, and the switch of
 * the current generation is a second compare-and-set on it, so two reprocesses of one file never both switch,
 * whatever the number of processes or nodes. A reprocess is rare: each op is a few single-row statements.
 */
export function* reprocessRule(d: StoreDialect, o: ReprocessOp): Rule<unknown> {
  switch (o.op) {
    case "reprocessBegin": {
      const f = yield* ask(d.fileGeneration(o.id));
      if (!f) return { kind: "missing" } satisfies ReprocessStart;
      if (f.generation !== o.from) return { kind: "moved", generation: f.generation } satisfies ReprocessStart;
      if (yield* ask(d.insertIntent({ id: o.id, generation: o.from + 1, owner: o.owner, now: o.now }))) {
        return { kind: "started" } satisfies ReprocessStart;
      }
      const intent = yield* ask(d.getIntent(o.id));
      // Deleted between the two statements (PostgreSQL, read committed): the caller may simply ask again.
      if (!intent) throw new SluiceError("SLUICE_ERR_REPROCESS_BUSY", `a reprocess of ${o.id} just ended: try again`);
      return { kind: "busy", intent } satisfies ReprocessStart;
    }
    case "reprocessPlacing": {
      const ok = yield* ask(
        d.setIntent({ id: o.id, owner: o.owner, phase: "placing", newOutputs: o.outputs, now: o.now }),
      );
      if (!ok) throw takenOver(o.id, o.owner);
      return undefined;
    }
    case "reprocessSwitch": {
      const intent = yield* ask(d.getIntent(o.id));
      if (!intent || intent.owner !== o.owner) throw takenOver(o.id, o.owner);
      // The generation being replaced enters the history first (a no-op when a previous switch put it there), read
      // from the row as it is, and only if the row is still at that generation.
      yield* ask(
        d.historyFromFile({
          id: o.id,
          generation: o.from,
          kind: o.from === 0 ? "ingested" : "reprocessed",
          now: o.now,
        }),
      );
      if (!(yield* ask(d.switchGeneration({ id: o.id, from: o.from, now: o.now })))) return "lost";
      yield* ask(d.setProcessing([{ id: o.id, processing: o.processing }]));
      yield* ask(
        d.insertHistory({
          id: o.id,
          generation: o.from + 1,
          kind: "reprocessed",
          processing: JSON.stringify(o.processing.record),
          now: o.now,
        }),
      );
      // The event commits with the switch (or neither does), read from the row as the switch left it.
      if (o.notify) {
        const [row] = yield* ask(d.fileRows([o.id]));
        if (row) {
          const generation = o.from + 1;
          yield* enqueueEvents(d, o.notify, [
            {
              id: `${o.id}:reprocessed:${generation}`,
              kind: "reprocessed",
              ingestId: o.id,
              subject: row.name,
              time: o.now,
              data: { ...fileSnapshot(row), generation },
            },
          ]);
        }
      }
      yield* ask(
        d.setIntent({
          id: o.id,
          owner: o.owner,
          phase: "switched",
          oldOutputs: o.oldOutputs,
          manifestPath: o.manifestPath,
          now: o.now,
        }),
      );
      return "switched";
    }
    case "reprocessTouch":
      return yield* ask(d.touchIntent({ id: o.id, owner: o.owner, newOwner: o.newOwner, now: o.now }));
    case "reprocessEnd":
      yield* ask(d.deleteIntent(o.id, o.owner));
      return undefined;
  }
}
