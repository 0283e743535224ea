import { randomUUID } from "node:crypto";
import type { Pool, PoolClient } from "pg";
import { SluiceError } from "../../core/errors.js";
import type { FileRecord } from "../../core/file-record.js";
import { Batcher } from "../../durable/batcher.js";
import { type FileRow, toRecord } from "../row-mapping.js";
import type { NodeLeases } from "../state-store.js";
import { NodeLock, nodeLockHeld } from "./node-lock.js";

/** Another live process runs under this node id (or took it over from this one). */
export class NodeIdInUseError extends SluiceError {
  constructor(message: string) {
    super("SLUICE_ERR_NODE_ID_IN_USE", message);
    this.name = "NodeIdInUseError";
  }
}

/** Serialises adoption across nodes (an arbitrary constant, distinct from the migration lock). */
const ADOPTION_LOCK = 0x51c3_ad09;

/**
 * The longest wait between two retries of a heartbeat or of retaking the node's lock once the database is back.
 * After an outage a peer trusts leases again 1.5 leases after it is itself back; a node still backing off by then
 * (the cap was a flat 5 s) looked dead with a lease under about 4 s, and its files in flight were adopted from
 * under it. A quarter lease keeps every live node's first beat and lock well inside that window.
 */
export function retryCapMs(leaseSeconds: number): number {
  return Math.max(50, Math.min(5_000, (leaseSeconds * 1000) / 4));
}

interface ClaimRequest {
  name: string;
  takeOver: boolean;
}

/** How long a starting process waits for a live holder of its node id to go away before it refuses to start. */
const LIVE_HOLDER_PATIENCE_MS = 3_000;

/**
 * Liveness and claims for nodes sharing one PostgreSQL state. A node is alive while its process holds the node's
 * advisory lock (see {@link NodeLock}: gone the moment the process dies) AND its heartbeat is younger than the
 * lease (a partitioned node may keep its lock's session on the server for a while; the lease decides there).
 * Every time is the database's `now()`: hosts' clocks may disagree, the server's is the one they share.
 * `retrying` waits out a restarting server, as the store does.
 */
export class PostgresNodeLeases implements NodeLeases {
  /** This process's run of the node: a restart is a new session. */
  private readonly session = randomUUID();
  private readonly lock: NodeLock;
  private lost: string | null = null;

  constructor(
    private readonly pool: Pool,
    url: string,
    private readonly node: string,
    readonly leaseSeconds: number,
    private readonly retrying: <T>(work: () => Promise<T>) => Promise<T>,
    private readonly inTransaction: <T>(work: (c: PoolClient) => Promise<T>) => Promise<T>,
  ) {
    this.lock = new NodeLock(url, node, retryCapMs(leaseSeconds), (why) => {
      this.lost = why;
    });
  }

  lockedSince(): number | null {
    return this.lock.heldSince;
  }

  private q(sql: string, params: unknown[]) {
    return this.retrying(() => this.pool.query(sql, params));
  }

  async join(onWait: (waitedMs: number) => void = () => {}): Promise<void> {
    // A node id is one running process. Its lock is free the moment a previous process under the id died (a
    // restart after a crash takes over at once); a live holder keeps it, and this process refuses to start
    // rather than share the id (two processes on one id would each take the other's files for their own).
    const started = Date.now();
    for (;;) {
      if (await this.retrying(() => this.lock.tryAcquire())) break;
      const stale = await this.q(
        "SELECT 1 FROM nodes WHERE node_id = $1 AND heartbeat_at < now() - make_interval(secs => $2)",
        [this.node, this.leaseSeconds],
      );
      const silent = (stale.rowCount ?? 0) > 0;
      if (silent) {
        // The holder stopped beating a lease ago: a dead process whose session the server kept (a partition,
        // a frozen host). Ending that session frees the lock; without the privilege to, the lease runs on.
        const pid = await this.retrying(() => this.lock.holder());
        if (pid !== null) await this.retrying(() => this.lock.terminate(pid)).catch(() => false);
      }
      const waited = Date.now() - started;
      if (waited > (silent ? this.leaseSeconds * 2000 + 5000 : LIVE_HOLDER_PATIENCE_MS)) {
        throw new NodeIdInUseError(
          `node id ${this.node} is in use by another running process: give each process its own --node-id`,
        );
      }
      onWait(waited);
      await new Promise((res) => setTimeout(res, 250));
    }
    await this.q(
      `INSERT INTO nodes (node_id, session, started_at, heartbeat_at) VALUES ($1, $2, now(), now())
       ON CONFLICT (node_id) DO UPDATE SET session = EXCLUDED.session, started_at = now(), heartbeat_at = now()`,
      [this.node, this.session],
    );
    // A new run of this node holds nothing yet: what an earlier run (killed) claimed is free again.
    await this.q("DELETE FROM claims WHERE owner = $1", [this.node]);
  }

  async heartbeat(): Promise<void> {
    if (this.lost) throw new NodeIdInUseError(this.lost);
    const r = await this.q("UPDATE nodes SET heartbeat_at = now() WHERE node_id = $1 AND session = $2", [
      this.node,
      this.session,
    ]);
    if ((r.rowCount ?? 0) === 0) {
      throw new NodeIdInUseError(`node id ${this.node} was taken over by another process after this one fell silent`);
    }
    await this.q("UPDATE claims SET lease_until = now() + make_interval(secs => $2) WHERE owner = $1", [
      this.node,
      this.leaseSeconds,
    ]);
  }

  /**
   * Claims and releases are group-committed: the names asked for in one turn of the event loop (a batch of small
   * files, the per-file tasks a scan started together) are taken in one statement and released in one, instead of
   * three transactions per file. Flushes of each are serialized; a caller resumes only once its statement is
   * committed, so a released name is free (and a won one held) by the time its caller goes on.
   */
  private readonly claims = new Batcher<ClaimRequest, boolean>((items) => this.claimBatch(items));
  private readonly releases = new Batcher<string, void>(async (names) => {
    await this.releaseBatch(names);
    return names.map(() => undefined);
  });

  claimSource(name: string, takeOver = true): Promise<boolean> {
    return this.claims.submit({ name, takeOver });
  }

  releaseSource(name: string): Promise<void> {
    return this.releases.submit(name);
  }

  private async claimBatch(items: ClaimRequest[]): Promise<boolean[]> {
    // One statement per takeOver value (in practice a batch has one: it is the node's trust in leases right now).
    // A name asked for twice gets the same answer twice, as two claims in a row by this node would.
    const won = new Set<string>();
    for (const takeOver of [true, false]) {
      const names = [...new Set(items.filter((it) => it.takeOver === takeOver).map((it) => it.name))];
      if (names.length === 0) continue;
      for (const name of await this.takeClaims(names, takeOver)) won.add(name);
    }
    if (won.size > 0) {
      // A file of a won name that some node is still finishing (its own recovery after a restart, or an adopter)
      // is theirs to finish: starting it again here would record the same source twice.
      const busy = await this.q(
        `SELECT DISTINCT name FROM files WHERE name = ANY($1::text[]) AND archive_ingest_id IS NULL
           AND state NOT IN ('done', 'duplicate', 'failed')`,
        [[...won]],
      );
      const names = (busy.rows as { name: string }[]).map((r) => r.name);
      if (names.length > 0) {
        await this.releaseBatch(names);
        for (const name of names) won.delete(name);
      }
    }
    return items.map((it) => won.has(it.name));
  }

  /** The names (of distinct `names`) this node now holds. */
  private async takeClaims(names: string[], takeOver: boolean): Promise<string[]> {
    // Inserted, or taken over from an expired lease, or already ours: one statement, so two nodes cannot both win.
    // (A retry after a commit whose answer was lost wins the same names again: they are ours by then.)
    const r = await this.q(
      `INSERT INTO claims (source_key, owner, lease_until)
         SELECT n, $2, now() + make_interval(secs => $3) FROM unnest($1::text[]) AS n
       ON CONFLICT (source_key) DO UPDATE SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
         WHERE claims.owner = EXCLUDED.owner
            OR ($4 AND (claims.lease_until < now() OR NOT ${nodeLockHeld("claims.owner")}))
       RETURNING source_key`,
      [names, this.node, this.leaseSeconds, takeOver],
    );
    return (r.rows as { source_key: string }[]).map((row) => row.source_key);
  }

  private async releaseBatch(names: string[]): Promise<void> {
    await this.q("DELETE FROM claims WHERE source_key = ANY($1::text[]) AND owner = $2", [
      [...new Set(names)],
      this.node,
    ]);
  }

  async adoptOrphans(limit: number): Promise<FileRecord[]> {
    // Adopters take turns under a transaction-scoped advisory lock, and each turn's statement starts after the
    // previous turn committed, so it sees the rows that turn adopted as owned by a live node. Row locks alone
    // do not do it: a row another adopter updated and committed mid-statement is re-checked only against its
    // own columns, not against the liveness join, and was handed out twice (seen under CI load).
    // SKIP LOCKED still passes over rows a presumed-dead owner is writing to right now; the next round gets them.
    const rows = await this.inTransaction(async (c) => {
      await c.query("SELECT pg_advisory_xact_lock($1)", [ADOPTION_LOCK]);
      const r = await c.query(
        `UPDATE files f SET owner = $1, updated_at = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
         FROM (
           SELECT ingest_id FROM files x
            WHERE x.state NOT IN ('done', 'duplicate', 'failed')
              AND x.owner IS DISTINCT FROM $1
              AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.node_id = x.owner
                                AND n.heartbeat_at > now() - make_interval(secs => $2)
                                AND ${nodeLockHeld("n.node_id")})
            ORDER BY x.discovered_at, x.ingest_id
            LIMIT $3
            FOR UPDATE SKIP LOCKED
         ) o
         WHERE f.ingest_id = o.ingest_id
         RETURNING f.*`,
        [this.node, this.leaseSeconds, limit],
      );
      return r.rows as FileRow[];
    });
    return rows.map(toRecord).sort((a, b) => (a.discoveredAt < b.discoveredAt ? -1 : 1));
  }

  async uploadMayBeLive(uri: string, includeSelf: boolean): Promise<boolean> {
    // Heartbeats, not locks: right after a database restart every lock is briefly free while the nodes are
    // alive and uploading, but their heartbeats are rows that survived the restart.
    const r = await this.q(
      `SELECT 1 FROM files f JOIN nodes n ON n.node_id = f.owner
        WHERE f.state NOT IN ('done', 'duplicate', 'failed') AND ($4 OR f.owner <> $2)
          AND f.warehouse_path IS NOT NULL
          AND (f.warehouse_path = $1 OR left($1, length(f.warehouse_path) + 1) = f.warehouse_path || '.')
          AND n.heartbeat_at > now() - make_interval(secs => $3)
        LIMIT 1`,
      [uri, this.node, this.leaseSeconds, includeSelf],
    );
    return (r.rowCount ?? 0) > 0;
  }

  /** Frees the claims and the id at once (no lease to wait out); anything unfinished is adopted by a live node. */
  async leave(): Promise<void> {
    // Claims still being taken or let go are settled first: one committed after the DELETE below would stay held.
    await Promise.all([this.claims.drain(), this.releases.drain()]);
    await this.q("DELETE FROM claims WHERE owner = $1", [this.node]);
    await this.q("DELETE FROM nodes WHERE node_id = $1 AND session = $2", [this.node, this.session]);
    await this.lock.close();
  }

  /** Lets the lock go without leaving (a store closed without a clean stop): the server frees it. */
  async closeLock(): Promise<void> {
    await this.lock.close();
  }
}
