import { lstat } from "node:fs/promises";
import { SluiceError } from "../core/errors.js";
import type { FileRecord } from "../core/file-record.js";
import type { IngestContext } from "../pipeline/context.js";
import type { Outcome } from "../pipeline/outcomes.js";
import { recoverAdopted } from "../pipeline/recovery.js";
import type { BatchLane, Runner } from "../pipeline/runner.js";
import type { NodeLeases } from "../store/state-store.js";
import type { Candidate } from "../watch/candidate.js";
import { sweepStaleUploads } from "./stale-uploads.js";

async function stillThere(c: Candidate): Promise<boolean> {
  try {
    const st = await lstat(c.path);
    return st.isFile() && st.ino === c.identity.inode && st.size === c.identity.size;
  } catch {
    return false;
  }
}

/** Rows adopted per round: a big orphaned backlog is taken over in slices, leaving some for other nodes. */
const ADOPT_BATCH = 100;
const ADOPT_EVERY_MS = 1_000;
const SWEEP_EVERY_MS = 60_000;

/**
 * This node's part in a cluster sharing one state: it heartbeats, works a
 * staging name only while it holds the name's claim (so nodes watching one
 * shared directory never work the same file), and adopts the unfinished
 * files of nodes whose heartbeat stopped.
 */
export class ClusterMember {
  private timers: NodeJS.Timeout[] = [];
  private beating = false;
  private adopting = false;
  private lastBeat = Date.now();
  /**
   * Since when this node's heartbeats have gone through without a gap. After
   * a database outage every node's last heartbeat looks stale at once; a node
   * only adopts once it has itself been beating for a lease and a half, by
   * which time every live node has beaten again too.
   */
  private healthySince = Date.now();
  /** Adopted rows whose staging path was busy here: recovered on a later round. */
  private deferred: string[] = [];

  constructor(
    private readonly leases: NodeLeases,
    private readonly ctx: IngestContext,
    private readonly runner: () => Runner,
  ) {}

  /** Before recovery: re-registers the node and frees what an earlier run of it claimed. */
  async join(): Promise<void> {
    let logged = 0;
    await this.leases.join((waited) => {
      if (waited - logged < 5_000 && logged > 0) return;
      logged = waited || 1;
      this.ctx.log.warn({
        event: "node_id_waiting",
        node_id: this.ctx.config.nodeId,
        detail: "a previous process under this id may still be alive: waiting for its lease to run out",
      });
    });
    this.lastBeat = this.healthySince = Date.now();
    // Beating starts here, not in start(): recovery and the start's upload sweep run between the two and can
    // outlast a lease (a large re-upload, a database or S3 outage meanwhile). A node silent that long while
    // holding its lock looked dead to its peers, which adopted the very files it was recovering.
    const leaseMs = this.leases.leaseSeconds * 1000;
    // Three beats per lease: one lost beat (a slow query, a restarting server) does not make the node look dead.
    const beats = setInterval(() => void this.beat(), Math.max(100, leaseMs / 3));
    beats.unref();
    this.timers.push(beats);
    this.ctx.log.info({
      event: "cluster_joined",
      node_id: this.ctx.config.nodeId,
      lease_seconds: this.leases.leaseSeconds,
    });
  }

  /** After recovery: adoption of dead peers' files and the periodic upload sweep (the heartbeat runs since join). */
  start(): void {
    const leaseMs = this.leases.leaseSeconds * 1000;
    const timers: NodeJS.Timeout[] = [];
    // A dead process's lock is gone at once, so orphans are looked for every second, not once per half lease:
    // a peer's death costs its files about a second. (One indexed query per node and second.)
    timers.push(setInterval(() => void this.adopt(), Math.min(ADOPT_EVERY_MS, Math.max(200, leaseMs / 2))));
    // Uploads orphaned by a node that died mid-upload (kept at the sweeps of nodes starting within its lease).
    // A warehouse that never lands content in pieces (a directory) answers at once with nothing aborted.
    timers.push(setInterval(() => void this.sweep(), Math.max(SWEEP_EVERY_MS, leaseMs * 2)));
    for (const t of timers) t.unref();
    this.timers.push(...timers);
  }

  /** Wraps the pipeline's work so a file is only worked while this node holds its staging name. */
  guard(work: (c: Candidate) => Promise<Outcome>): (c: Candidate) => Promise<Outcome> {
    return async (c) => {
      if (!(await this.leases.claimSource(c.name, this.trustsLeases()))) {
        // Another live node is on it; if that node dies, the next scan after its lease finds the file again.
        this.ctx.log.debug({ event: "claimed_elsewhere", path: c.path });
        return "skipped";
      }
      try {
        // Between this node seeing the file and getting its claim, another node may have ingested it (and
        // released the name): a file no longer there as seen is that node's, not a vanished file of ours.
        if (!(await stillThere(c))) {
          this.ctx.log.debug({ event: "taken_elsewhere", path: c.path });
          return "skipped";
        }
        return await work(c);
      } finally {
        await this.leases.releaseSource(c.name).catch((err: Error) =>
          // The lease runs out on its own; only this node could use the claim meanwhile.
          this.ctx.log.warn({ event: "claim_release_failed", path: c.path, error: err.message }),
        );
      }
    };
  }

  /**
   * {@link guard} for a batch of the small-file lane: the batch's names are claimed together (one group commit,
   * see PostgresNodeLeases), the batch runs on the files claimed and still there as seen, and every name claimed
   * is released together after. The others are "skipped" at their positions. `waiting` is the inner run's: the
   * claims are not the commit that lets the next batch start (both batches would then hash in lockstep).
   */
  guardBatch(run: BatchLane["run"]): BatchLane["run"] {
    return async (cs, waiting) => {
      const outcomes: Outcome[] = cs.map(() => "skipped");
      const takeOver = this.trustsLeases();
      const claims = await Promise.allSettled(cs.map((c) => this.leases.claimSource(c.name, takeOver)));
      const held: Candidate[] = [];
      claims.forEach((r, i) => {
        const c = cs[i] as Candidate;
        if (r.status === "fulfilled") {
          if (r.value) held.push(c);
          else this.ctx.log.debug({ event: "claimed_elsewhere", path: c.path });
          return;
        }
        // As a per-file claim that failed: the file is left in staging for a later scan.
        outcomes[i] = "aborted";
        const err = r.reason as Error;
        this.ctx.log.error({ event: "file_error", path: c.path, error: err.message, stack: err.stack });
      });
      try {
        const there = await Promise.all(held.map((c) => stillThere(c)));
        const work: Candidate[] = [];
        held.forEach((c, k) => {
          if (there[k]) work.push(c);
          else this.ctx.log.debug({ event: "taken_elsewhere", path: c.path });
        });
        if (work.length > 0) {
          const done = await run(work, waiting);
          const at = new Map(cs.map((c, i) => [c, i]));
          work.forEach((c, k) => {
            outcomes[at.get(c) as number] = done[k] ?? "aborted";
          });
        }
        return outcomes;
      } finally {
        await Promise.all(
          held.map((c) =>
            this.leases
              .releaseSource(c.name)
              .catch((err: Error) =>
                this.ctx.log.warn({ event: "claim_release_failed", path: c.path, error: err.message }),
              ),
          ),
        );
      }
    };
  }

  private async beat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      await this.leases.heartbeat();
      const now = Date.now();
      if (now - this.lastBeat > this.leaseMs() / 2) this.healthySince = now;
      this.lastBeat = now;
    } catch (err) {
      if (err instanceof SluiceError && err.code === "SLUICE_ERR_NODE_ID_IN_USE") {
        // Another process now runs as this node and owns its files: this one must stop touching anything at
        // once. Exiting mid-file is what a crash does, and every step is safe to be cut off.
        this.ctx.log.error({ event: "node_replaced", error: (err as Error).message });
        process.exit(3);
      }
      this.ctx.log.warn({
        event: "heartbeat_failed",
        error: (err as Error).message,
        silent_ms: Date.now() - this.lastBeat,
      });
    } finally {
      this.beating = false;
    }
  }

  /**
   * Are other nodes' stale heartbeats, expired leases and free locks evidence
   * that they died? Only once this node itself has been beating without a gap,
   * and holding its own lock without a break, for a lease and a half: after a
   * database outage all leases look expired and all locks free at once, and
   * every live node needs a moment to renew its lease and take its lock again.
   */
  private trustsLeases(): boolean {
    const now = Date.now();
    const locked = this.leases.lockedSince();
    return (
      now - this.lastBeat <= this.leaseMs() / 2 &&
      now - this.healthySince >= this.leaseMs() * 1.5 &&
      locked !== null &&
      now - locked >= this.leaseMs() * 1.5
    );
  }

  private leaseMs(): number {
    return this.leases.leaseSeconds * 1000;
  }

  private async adopt(): Promise<void> {
    if (this.adopting) return;
    if (!this.trustsLeases()) return;
    this.adopting = true;
    try {
      const fresh = await this.leases.adoptOrphans(ADOPT_BATCH);
      if (fresh.length > 0) {
        this.ctx.log.warn({ event: "files_adopted", files: fresh.length, ids: fresh.map((r) => r.ingestId) });
      }
      // Deferred rows are read again: they may have moved on (or been finished) since.
      const again = (await Promise.all(this.deferred.map((id) => this.ctx.store.get(id)))).filter(
        (r) => r !== undefined && !["done", "duplicate", "failed"].includes(r.state),
      ) as FileRecord[];
      const rows = [...again, ...fresh];
      if (rows.length > 0) {
        const runner = this.runner();
        const deferred = await recoverAdopted(this.ctx, rows, (path, work) => runner.exclusive(path, work));
        this.deferred = deferred.map((r) => r.ingestId);
      } else {
        this.deferred = [];
      }
    } catch (err) {
      this.ctx.log.warn({ event: "adoption_failed", error: (err as Error).message });
    } finally {
      this.adopting = false;
    }
  }

  private async sweep(): Promise<void> {
    if (!this.trustsLeases()) return;
    await sweepStaleUploads(this.ctx, true).catch((err: Error) =>
      this.ctx.log.warn({ event: "s3_sweep_failed", error: err.message }),
    );
  }

  async stop(): Promise<void> {
    for (const t of this.timers.splice(0)) clearInterval(t);
    await this.leases.leave().catch(() => undefined);
  }
}
