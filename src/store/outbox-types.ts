/**
 * The notification outbox's rows as the store reads and writes them (rules/outbox.ts writes them in the state's
 * transaction; src/notify/outbox-worker.ts delivers and settles them).
 */

/** Which targets the writing process notifies, and the CloudEvent `source` it signs its events with. */
export interface NotifyStamp {
  /** Target keys: each configured URL with any credentials removed (src/notify/targets.ts). */
  targets: string[];
  source: string;
}

/** One event for one target, as written in the state's transaction. */
export interface OutboxInsert {
  eventId: string;
  target: string;
  ingestId: string;
  /** The CloudEvent type (`sluice.file.ingested`...). */
  type: string;
  /** The serialized CloudEvent: what the state said at the commit, never rebuilt later. */
  payload: string;
  /** The state change's time (ISO-8601): the event's `time`. */
  createdAt: string;
}

export interface OutboxKey {
  eventId: string;
  target: string;
}

/** A row due for delivery (leased to this node on a shared store). */
export interface OutboxRow extends OutboxInsert {
  attempts: number;
}

/** A failed delivery: tried again `delayMs` from now (the database's clock on a shared store). */
export interface OutboxRetry extends OutboxKey {
  attempts: number;
  delayMs: number;
  error: string;
}

/** What is waiting for one target: for the lag gauge and the `/readyz` detail. */
export interface OutboxBacklog {
  target: string;
  pending: number;
  /** The oldest undelivered event's state-change time (ISO-8601). */
  oldestAt: string;
}

export interface OutboxClaim {
  /** This node: on a shared store the rows are leased to it. */
  owner: string;
  targets: string[];
  limit: number;
  /** How long the lease lasts: after it, another node may deliver the row (at least once). */
  leaseMs: number;
}
