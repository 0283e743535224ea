import type { Notifier, OutgoingEvent } from "../notifier.js";
import type { NotifyTarget } from "../targets.js";
import { sign } from "./signature.js";

/** Why a delivery failed: the status a receiver answered (the worker logs it when the target goes down). */
export class WebhookStatusError extends Error {}

/**
 * POSTs each event in CloudEvents structured mode. A 2xx is delivered; anything else (any status, a timeout, a
 * refused connection) is tried again later. 410 Gone included: a target that should stop is removed from
 * `--notify` by its operator, never silently by sluice (docs/decisions.md).
 */
export class WebhookNotifier implements Notifier {
  readonly target: string;
  private readonly url: string;
  private readonly auth: string | null;

  constructor(
    t: NotifyTarget,
    private readonly opts: { secret: string; timeoutMs: number },
  ) {
    this.target = t.key;
    // fetch refuses URLs with credentials: they become a Basic authorization header.
    this.url = t.key;
    this.auth = t.url.username
      ? `Basic ${Buffer.from(`${decodeURIComponent(t.url.username)}:${decodeURIComponent(t.url.password)}`).toString("base64")}`
      : null;
  }

  async check(): Promise<void> {}

  async deliver(event: OutgoingEvent): Promise<void> {
    const headers: Record<string, string> = {
      "content-type": "application/cloudevents+json; charset=utf-8",
      "user-agent": "sluice",
    };
    if (this.auth) headers.authorization = this.auth;
    if (this.opts.secret) {
      const ts = Math.floor(Date.now() / 1000);
      headers["webhook-id"] = event.id;
      headers["webhook-timestamp"] = String(ts);
      headers["webhook-signature"] = sign(this.opts.secret, event.id, ts, event.payload);
    }
    const res = await fetch(this.url, {
      method: "POST",
      headers,
      body: event.payload,
      redirect: "manual",
      signal: AbortSignal.timeout(this.opts.timeoutMs),
    });
    // The body is not used; reading it frees the connection for the next delivery.
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status > 299) throw new WebhookStatusError(`HTTP ${res.status}`);
  }

  async close(): Promise<void> {}
}
