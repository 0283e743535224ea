import type { RunConfig } from "../config/config.js";
import { NatsNotifier } from "../notify/nats/nats-notifier.js";
import type { Notifier } from "../notify/notifier.js";
import { OutboxWorker } from "../notify/outbox-worker.js";
import { parseTarget } from "../notify/targets.js";
import { WebhookNotifier } from "../notify/webhook/webhook-notifier.js";
import type { StateStore } from "../store/state-store.js";
import type { Logger } from "../telemetry/logger.js";
import type { Metrics } from "../telemetry/metrics.js";

/**
 * The notification targets of `--notify`, wired: a notifier per URL (by scheme), the store told to write their
 * events in the state's transactions, and the outbox worker that delivers them. null without targets (and in a
 * dry run): no outbox rows, no loop. Throws when a target can never work (SLUICE_ERR_NOTIFY_NO_STREAM).
 */
export async function openNotify(
  config: RunConfig,
  store: StateStore,
  log: Logger,
  metrics: Metrics,
): Promise<OutboxWorker | null> {
  if (config.dryRun || config.notify.urls.length === 0) return null;
  const notifiers = new Map<string, Notifier>();
  for (const url of config.notify.urls) {
    const t = parseTarget(url);
    if (notifiers.has(t.key)) continue;
    const { timeoutMs, secret } = config.notify;
    notifiers.set(
      t.key,
      t.kind === "nats" ? new NatsNotifier(t, { timeoutMs }) : new WebhookNotifier(t, { secret, timeoutMs }),
    );
  }
  const worker = new OutboxWorker(
    store,
    [...notifiers.values()],
    {
      owner: config.nodeId,
      batch: 64,
      concurrency: 16,
      // Twice the longest a round can take (every delivery timing out, in slots of `concurrency`), plus a margin:
      // a node delivers its rows alone while it lives; a dead node's rows go to another node after this.
      leaseMs: config.notify.timeoutMs * (64 / 16) * 2 + 5_000,
      retryBaseMs: 1_000,
      retryCapMs: config.notify.retryCapMs,
      pollMs: 200,
    },
    log,
    metrics,
  );
  try {
    await worker.check();
  } catch (err) {
    for (const n of notifiers.values()) await n.close().catch(() => undefined);
    throw err;
  }
  store.notifyTo({ targets: worker.targets, source: `sluice://${config.nodeId}` });
  return worker;
}
