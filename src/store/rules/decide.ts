import type { Decision } from "../state-store.js";
import type { WriteOp } from "../write-op.js";
import { checkFenced, OwnershipLostError } from "./fence.js";
import { linkRequeues } from "./requeue.js";
import { ask, type Rule } from "./steps.js";
import type { HashedRow, Owner, StoreDialect } from "./store-dialect.js";

type DecideOp = Extract<WriteOp, { op: "decide" }>;
type RehashOp = Extract<WriteOp, { op: "rehash" }>;

/**
 * A duplicate is only declared once its original is safely stored; until then the caller waits. "pruned": the
 * original's row was deleted by `sluice prune` (only finished rows are), its content row keeps its id and path.
 */
const FINISHED_OWNER_STATES = new Set(["stored", "manifested", "done", "pruned"]);

/**
 * Claims each file's content (unique by SHA-256) or finds its owner, and reserves a warehouse name, for a
 * whole batch: six statements however many files. Files of one batch are decided in order, as if one after
 * the other: the second of two with the same bytes waits for the first, the second of two with the same name
 * takes the collision name. Replayable: a decide whose commit was lost finds its own claim and name again.
 */
export function* decideAll(d: StoreDialect, ops: DecideOp[]): Rule<Decision[]> {
  if (d.fencing) {
    // Several nodes on one staging directory: a node stalled past its lease (a database outage) may have had its
    // claim on a name taken over by a node that found no row of that name yet (a small file's row is first
    // written here). The decision is the first write of the file: refused once the name is another node's, so
    // only one of the two records the source. (The batch is replayed op by op: the others still land.)
    const top = ops.filter((o) => (o.file.archiveIngestId ?? null) === null).map((o) => o.file.name);
    if (top.length > 0) {
      const lost = yield* ask(d.claimedElsewhere([...new Set(top)]));
      const o = ops.find((x) => (x.file.archiveIngestId ?? null) === null && lost.has(x.file.name));
      if (o) throw new OwnershipLostError(`${o.file.name}: its claim was taken over by another node`);
    }
  }
  yield* ask(d.insertFiles(ops.map((o) => ({ file: o.file, now: o.now }))));
  // A file `sluice requeue` handed back is linked to its failed row with its first decision (a new, duplicate or
  // waiting one alike): the row and the link are committed together.
  yield* linkRequeues(d, ops);
  const owners: Map<string, Owner> = yield* ask(d.owners([...new Set(ops.map((o) => o.sha256))]));
  // The first file of the batch with unclaimed bytes claims them; the contents primary key, not this read,
  // decides a race with another node (a claim not won is looked up again).
  const want = new Map<string, string>();
  for (const o of ops) if (!owners.has(o.sha256) && !want.has(o.sha256)) want.set(o.sha256, o.file.ingestId);
  if (want.size > 0) {
    const won = yield* ask(d.claim([...want].map(([sha, id]) => ({ sha, id }))));
    const lost = [...want.keys()].filter((sha) => !won.has(sha));
    if (lost.length > 0) for (const [sha, o] of yield* ask(d.owners(lost))) owners.set(sha, o);
    for (const sha of won) owners.set(sha, { id: want.get(sha) as string, state: "discovered", wp: null });
  }
  const out: Decision[] = new Array(ops.length);
  const rows: HashedRow[] = [];
  const fresh: number[] = [];
  ops.forEach((o, i) => {
    const id = o.file.ingestId;
    const owner = owners.get(o.sha256);
    if (!owner || owner.id === id) {
      fresh.push(i);
      return;
    }
    if (!FINISHED_OWNER_STATES.has(owner.state)) {
      out[i] = { kind: "wait", ownerId: owner.id };
      return;
    }
    // (An original whose raw bytes were not kept has no path: its duplicates have none either.)
    const wp = owner.wp as string;
    const p = o.placement;
    rows.push({ id, sha: o.sha256, wp, dup: owner.id, at: p.ingestedAt, mp: p.manifestPath, now: o.now });
    out[i] = { kind: "duplicate", duplicateOf: owner.id, warehousePath: wp };
  });
  if (fresh.length > 0) {
    const preferred = (o: DecideOp) => `${o.placement.partitionDir}/${o.placement.baseName}`;
    const taken = yield* ask(
      d.takenPaths(fresh.map((i) => ({ path: preferred(ops[i] as DecideOp), id: (ops[i] as DecideOp).file.ingestId }))),
    );
    for (const i of fresh) {
      const o = ops[i] as DecideOp;
      let wp = preferred(o);
      // Taken by a stored file, or by an earlier file of this batch: the content-tagged name instead.
      if (taken.has(wp)) wp = `${o.placement.partitionDir}/${o.placement.collisionName}`;
      else taken.add(wp);
      rows.push({ id: o.file.ingestId, sha: o.sha256, wp, dup: null, at: null, mp: null, now: o.now });
      out[i] = { kind: "new", warehousePath: wp };
    }
  }
  if (rows.length > 0) {
    const changed = yield* ask(d.setHashed(rows));
    checkFenced(
      d,
      rows.map((r) => r.id),
      changed,
    );
  }
  return out;
}

/**
 * The landed bytes differ from what was hashed: moves the file's content claim to the new hash, or makes it a
 * duplicate of the file that already stored those bytes ("wait" while that one is in flight). Rare (a writer
 * that kept writing), so one file at a time.
 */
export function* rehashOne(d: StoreDialect, o: RehashOp): Rule<"new" | "duplicate" | "wait"> {
  let owner = (yield* ask(d.owners([o.sha256]))).get(o.sha256);
  if (owner && owner.id !== o.id && !FINISHED_OWNER_STATES.has(owner.state)) return "wait";
  yield* ask(d.releaseClaims([o.id]));
  const base = { id: o.id, sha: o.sha256, size: o.size, mtimeMs: o.mtimeMs, now: o.now };
  if (!owner || owner.id === o.id) {
    if ((yield* ask(d.claim([{ sha: o.sha256, id: o.id }]))).has(o.sha256)) {
      const changed = yield* ask(d.setRehashed([{ ...base, dup: null, wp: null, keepPath: true, at: null, mp: null }]));
      checkFenced(d, [o.id], changed);
      return "new";
    }
    // Another node claimed these bytes since the read: the batch is retried and then sees its row.
    owner = (yield* ask(d.owners([o.sha256]))).get(o.sha256);
    if (!owner || !FINISHED_OWNER_STATES.has(owner.state)) {
      throw Object.assign(new Error("claim race"), { code: "40001" });
    }
  }
  const changed = yield* ask(
    d.setRehashed([{ ...base, dup: owner.id, wp: owner.wp, keepPath: false, at: o.ingestedAt, mp: o.manifestPath }]),
  );
  checkFenced(d, [o.id], changed);
  return "duplicate";
}
