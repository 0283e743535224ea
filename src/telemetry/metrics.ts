import { createRequire } from "node:module";
import type { Registry } from "prom-client";
import { ThroughputHistory } from "./throughput-history.js";

/** The Prometheus instruments, made only when something will read them. */
function makeInstruments() {
  // prom-client (with @opentelemetry/api) takes ~50 ms to load, a twentieth of a 5,000-file `--once` run that
  // never serves /metrics: loaded synchronously (it is CommonJS), and only when asked for.
  const { Counter, Gauge, Histogram, Registry } = createRequire(import.meta.url)(
    "prom-client",
  ) as typeof import("prom-client");
  const registry = new Registry();
  return {
    registry,
    files: new Counter({
      name: "sluice_files_total",
      help: "Files finished, by outcome (ingested, duplicate, failed, vanished)",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    bytes: new Counter({
      name: "sluice_bytes_total",
      help: "Bytes of files finished as ingested",
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: "sluice_queue_depth",
      help: "Files ready and waiting for a worker",
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: "sluice_in_flight",
      help: "Files being processed now",
      registers: [registry],
    }),
    pending: new Gauge({
      name: "sluice_pending_files",
      help: "Files seen in staging and waiting to become ready",
      registers: [registry],
    }),
    sinkRetries: new Counter({
      name: "sluice_warehouse_retries_total",
      help: "Warehouse (S3) requests retried, by operation and kind (transient, permanent)",
      labelNames: ["op", "kind"] as const,
      registers: [registry],
    }),
    sinkWaiting: new Gauge({
      name: "sluice_warehouse_waiting_files",
      help: "Files stalled waiting for the warehouse (S3 down, throttling, or refusing)",
      registers: [registry],
    }),
    ingestSeconds: new Histogram({
      name: "sluice_ingest_duration_seconds",
      help: "Time from ready to finished, per file",
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers: [registry],
    }),
    httpSeconds: new Histogram({
      name: "sluice_http_request_duration_seconds",
      help: "HTTP API requests, by method, route pattern and status code",
      labelNames: ["method", "route", "status_code"] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers: [registry],
    }),
    notifyPending: new Gauge({
      name: "sluice_notify_pending_events",
      help: "Notification events not yet delivered, by target (URL without credentials)",
      labelNames: ["target"] as const,
      registers: [registry],
    }),
    notifyLag: new Gauge({
      name: "sluice_notify_lag_seconds",
      help: "Age of the oldest undelivered notification event, by target (0 when none is waiting)",
      labelNames: ["target"] as const,
      registers: [registry],
    }),
    notifyDelivered: new Counter({
      name: "sluice_notify_delivered_total",
      help: "Notification events delivered, by target",
      labelNames: ["target"] as const,
      registers: [registry],
    }),
    notifyFailed: new Counter({
      name: "sluice_notify_failed_attempts_total",
      help: "Notification deliveries that failed and will be tried again, by target",
      labelNames: ["target"] as const,
      registers: [registry],
    }),
    notifyDeliverySeconds: new Histogram({
      name: "sluice_notify_delivery_lag_seconds",
      help: "From the state commit an event reports to its delivery, by target",
      labelNames: ["target"] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 1800],
      registers: [registry],
    }),
    stageSeconds: new Histogram({
      name: "sluice_stage_duration_seconds",
      help: "Time spent per pipeline stage, per file (hash, decide, process: naming and processor, store: includes process, finish)",
      labelNames: ["stage"] as const,
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers: [registry],
    }),
  };
}

/**
 * The counters sluice keeps; one registry per process, exposed by the HTTP API at GET /metrics. The
 * Prometheus side exists only with `prometheus: true` (the default; `sluice run`, which serves no /metrics,
 * passes false): the periodic `metrics` log line works either way, from plain totals kept here.
 */
export class Metrics {
  private readonly prom: ReturnType<typeof makeInstruments> | null;

  constructor(opts: { prometheus?: boolean } = {}) {
    this.prom = (opts.prometheus ?? true) ? makeInstruments() : null;
  }

  /** The Prometheus registry (throws without `prometheus: true`: nothing was recorded for it). */
  get registry(): Registry {
    if (!this.prom) throw new Error("internal: metrics were created without Prometheus instruments");
    return this.prom.registry;
  }

  setQueueDepth(n: number): void {
    this.prom?.queueDepth.set(n);
  }

  setInFlight(n: number): void {
    this.prom?.inFlight.set(n);
  }

  /** A warehouse request that will be tried again. */
  sinkRetry(op: string, kind: "transient" | "permanent"): void {
    this.prom?.sinkRetries.inc({ op, kind });
  }

  private waiting = 0;
  /** Files finished and bytes ingested per 5 s over the last 15 minutes, for the dashboard's chart. */
  readonly history = new ThroughputHistory();

  /** Files waiting for the warehouse now. */
  warehouseWaiting(): number {
    return this.waiting;
  }

  /**
   * One HTTP request. `route` must be the route pattern (`/api/v1/files/:id`),
   * never the raw URL: ids in label values would grow the registry without bound.
   */
  observeHttp(method: string, route: string, statusCode: number, seconds: number): void {
    this.prom?.httpSeconds.observe({ method, route, status_code: String(statusCode) }, seconds);
  }

  /** Time one file spent in one pipeline stage. */
  observeStage(stage: string, seconds: number): void {
    this.prom?.stageSeconds.observe({ stage }, seconds);
  }

  /** One notification delivered, `lagSeconds` after the state change it reports. */
  notifyDelivered(target: string, lagSeconds: number): void {
    this.prom?.notifyDelivered.inc({ target });
    this.prom?.notifyDeliverySeconds.observe({ target }, Math.max(0, lagSeconds));
  }

  notifyFailed(target: string): void {
    this.prom?.notifyFailed.inc({ target });
  }

  /** What waits per target now (targets with nothing waiting are given as 0). */
  notifyBacklog(rows: { target: string; pending: number; lagSeconds: number }[]): void {
    for (const r of rows) {
      this.prom?.notifyPending.set({ target: r.target }, r.pending);
      this.prom?.notifyLag.set({ target: r.target }, r.lagSeconds);
    }
  }

  /** A file starts (+1) or stops (-1) waiting for the warehouse. */
  warehouseWait(delta: 1 | -1): void {
    this.waiting += delta;
    this.prom?.sinkWaiting.set(this.waiting);
  }

  /** Plain totals for the periodic log line (prom-client keeps them internally). */
  private readonly totals = { ingested: 0, duplicate: 0, failed: 0, vanished: 0, bytes: 0 };
  private last = { at: performance.now(), files: 0, bytes: 0 };

  record(outcome: "ingested" | "duplicate" | "failed" | "vanished", bytes: number, seconds: number): void {
    this.prom?.files.inc({ outcome });
    this.totals[outcome]++;
    if (outcome !== "vanished") this.history.record(1, outcome === "ingested" ? bytes : 0);
    if (outcome === "ingested") {
      this.prom?.bytes.inc(bytes);
      this.totals.bytes += bytes;
    }
    this.prom?.ingestSeconds.observe(seconds);
  }

  /** Totals plus per-second rates since the previous snapshot. */
  snapshot(queueDepth: number, inFlight: number, pending: number) {
    this.prom?.queueDepth.set(queueDepth);
    this.prom?.inFlight.set(inFlight);
    this.prom?.pending.set(pending);
    const now = performance.now();
    const files = this.totals.ingested + this.totals.duplicate + this.totals.failed;
    const secs = Math.max((now - this.last.at) / 1000, 1e-3);
    const snap = {
      files_ingested: this.totals.ingested,
      files_duplicate: this.totals.duplicate,
      files_failed: this.totals.failed,
      files_vanished: this.totals.vanished,
      bytes_ingested: this.totals.bytes,
      files_per_sec: Math.round(((files - this.last.files) / secs) * 10) / 10,
      bytes_per_sec: Math.round((this.totals.bytes - this.last.bytes) / secs),
      queue_depth: queueDepth,
      in_flight: inFlight,
      pending,
      warehouse_waiting: this.waiting,
    };
    this.last = { at: now, files, bytes: this.totals.bytes };
    return snap;
  }
}
