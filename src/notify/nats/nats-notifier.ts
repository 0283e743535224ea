import { connect, type JetStreamClient, type NatsConnection } from "nats";
import { SluiceError } from "../../core/errors.js";
import type { Notifier, OutgoingEvent } from "../notifier.js";
import { type NotifyTarget, subjectOf } from "../targets.js";

/**
 * Publishes each event to a JetStream subject with `Nats-Msg-Id` = the event id: a redelivery within the stream's
 * duplicate window is acknowledged as a duplicate and not stored again, so the stream holds each event once.
 * The connection is opened on first use and again after it is lost; a server that is away fails the delivery
 * (the worker retries), never the start.
 */
export class NatsNotifier implements Notifier {
  readonly target: string;
  private readonly subject: string;
  private conn: Promise<NatsConnection> | null = null;

  constructor(
    private readonly t: NotifyTarget,
    private readonly opts: { timeoutMs: number },
  ) {
    this.target = t.key;
    this.subject = subjectOf(t.url);
  }

  private connection(): Promise<NatsConnection> {
    if (!this.conn) {
      const u = this.t.url;
      const user = decodeURIComponent(u.username);
      const pass = decodeURIComponent(u.password);
      const p = connect({
        servers: `${u.hostname}:${u.port || "4222"}`,
        timeout: this.opts.timeoutMs,
        // Reconnects in the background for ever; a publish meanwhile fails and is retried by the worker.
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1000,
        ...(user && pass ? { user, pass } : user ? { token: user } : {}),
      });
      this.conn = p;
      p.then(
        (nc) => {
          void nc.closed().then(() => {
            if (this.conn === p) this.conn = null;
          });
        },
        () => {
          if (this.conn === p) this.conn = null;
        },
      );
    }
    return this.conn;
  }

  /** A server that answers must have a stream for the subject; one that does not answer is waited for later. */
  async check(): Promise<void> {
    let nc: NatsConnection;
    try {
      nc = await this.connection();
    } catch {
      return;
    }
    const jsm = await nc.jetstreamManager({ timeout: this.opts.timeoutMs });
    try {
      await jsm.streams.find(this.subject);
    } catch (err) {
      throw new SluiceError(
        "SLUICE_ERR_NOTIFY_NO_STREAM",
        `--notify ${this.target}: no JetStream stream captures subject ${this.subject} (${(err as Error).message})`,
      );
    }
  }

  async deliver(event: OutgoingEvent): Promise<void> {
    const js: JetStreamClient = (await this.connection()).jetstream({ timeout: this.opts.timeoutMs });
    // A duplicate ack (ack.duplicate) is a delivery too: the stream already holds this event.
    await js.publish(this.subject, new TextEncoder().encode(event.payload), {
      msgID: event.id,
      timeout: this.opts.timeoutMs,
    });
  }

  async close(): Promise<void> {
    const p = this.conn;
    this.conn = null;
    if (p) await (await p.catch(() => null))?.close();
  }
}
