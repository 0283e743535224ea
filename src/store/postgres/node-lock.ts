import pg from "pg";
import { retry } from "../../core/retry.js";

/**
 * The seed of the 64-bit advisory-lock key of a node id (`hashtextextended(node_id, SEED)`): an arbitrary
 * constant, so sluice's keys do not meet another application's in the same database.
 */
export const NODE_LOCK_SEED = 0x51c3;

/** SQL conditions on `pg_locks l` matching the granted advisory lock of the node id `idExpr`. */
function lockOf(idExpr: string): string {
  return `l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.classid::int8 = (hashtextextended(${idExpr}, ${NODE_LOCK_SEED}) >> 32) & 4294967295
      AND l.objid::int8 = hashtextextended(${idExpr}, ${NODE_LOCK_SEED}) & 4294967295`;
}

/** SQL true when the node named by `idExpr` holds its lock now, i.e. a process of it is connected. */
export function nodeLockHeld(idExpr: string): string {
  return `EXISTS (SELECT 1 FROM pg_locks l WHERE ${lockOf(idExpr)})`;
}

/**
 * A PostgreSQL session-level advisory lock for one node id, held on a connection of its own for as long as the
 * process runs. The server drops it the moment the process dies (its socket closes), so peers and a restarted
 * process can tell "dead" at once instead of waiting out a heartbeat lease. What the lock cannot tell is a
 * partition (the server may keep the dead connection's session for a while): heartbeats and leases still
 * decide there.
 */
export class NodeLock {
  private client: pg.Client | null = null;
  private since: number | null = null;
  private reconnecting = false;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly node: string,
    /** The longest wait between two attempts to retake the lock after its connection went (see retryCapMs). */
    private readonly retryCapMs: number,
    private readonly onLost: (why: string) => void,
  ) {}

  /** Since when (epoch ms) the lock has been held without a break; null while it is not held. */
  get heldSince(): number | null {
    return this.since;
  }

  /** Takes the lock if no other session holds it; true when held by this process afterwards. */
  async tryAcquire(): Promise<boolean> {
    if (this.since !== null) return true;
    const client = await this.connect();
    const r = await client.query("SELECT pg_try_advisory_lock(hashtextextended($1, $2)) AS ok", [
      this.node,
      NODE_LOCK_SEED,
    ]);
    if (r.rows[0]?.ok !== true) return false;
    this.since = Date.now();
    return true;
  }

  /** The backend pid holding this node's lock, when another session holds it. */
  async holder(): Promise<number | null> {
    const client = await this.connect();
    const r = await client.query(`SELECT l.pid FROM pg_locks l WHERE ${lockOf("$1::text")} LIMIT 1`, [this.node]);
    return (r.rows[0]?.pid as number | undefined) ?? null;
  }

  /** Ends a session that holds the lock but whose node is known dead (a connection the server has kept). */
  async terminate(pid: number): Promise<boolean> {
    const client = await this.connect();
    const r = await client.query("SELECT pg_terminate_backend($1) AS ok", [pid]);
    return r.rows[0]?.ok === true;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.since = null;
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => {});
  }

  private async connect(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({
      connectionString: this.url,
      connectionTimeoutMillis: 5_000,
      keepAlive: true,
      application_name: `sluice node ${this.node}`.slice(0, 63),
    });
    client.on("error", () => this.dropped(client, "the lock's connection failed"));
    client.on("end", () => this.dropped(client, "the lock's connection closed"));
    await client.connect();
    if (this.closed) {
      // Closed while this connected (a retake in flight at shutdown): a kept connection would hold the process.
      await client.end().catch(() => {});
      throw new Error("node lock closed");
    }
    this.client = client;
    return client;
  }

  /** The connection went (the server restarted): the lock went with it. Take it again, or say it is gone. */
  private dropped(client: pg.Client, why: string): void {
    if (this.client !== client) return;
    this.client = null;
    this.since = null;
    if (this.closed || this.reconnecting) return;
    this.reconnecting = true;
    void (async () => {
      try {
        // Every failure is the lost server's (this only connects and takes a lock): retried until closed.
        const held = await retry(() => this.tryAcquire(), {
          retryable: () => !this.closed,
          baseMs: 100,
          capMs: this.retryCapMs,
        });
        // Connected, but another session holds the lock: another process took over this node id.
        if (!held && !this.closed) this.onLost(`${why}, and another process now holds node id ${this.node}`);
      } catch {
        // Closed while retaking it: nothing to retake.
      }
      this.reconnecting = false;
    })();
  }
}
