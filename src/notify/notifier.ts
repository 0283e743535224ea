/** One event as a notifier sends it: the CloudEvent serialized when its state committed. */
export interface OutgoingEvent {
  /** The CloudEvent `id` (`<ingest_id>:<kind>`): the receiver's dedupe key, NATS's Nats-Msg-Id. */
  id: string;
  type: string;
  /** The CloudEvent JSON, byte for byte what is sent. */
  payload: string;
}

/**
 * A notification target of one kind (src/notify/webhook, src/notify/nats). The outbox worker knows only this;
 * the wiring root (src/cli/wire.ts) picks the class by the URL's scheme.
 */
export interface Notifier {
  /** The target's key: its URL with any credentials removed (what the outbox rows name). */
  readonly target: string;
  /**
   * Resolves once the target has the event; throws when it may not (the worker retries later). Must be safe
   * to repeat: delivery is at least once.
   */
  deliver(event: OutgoingEvent): Promise<void>;
  /** At start: a configuration the target can never accept is refused (a NATS subject no stream captures). */
  check(): Promise<void>;
  close(): Promise<void>;
}
