import type { StateStore } from "../store/state-store.js";
import type { Metrics } from "../telemetry/metrics.js";

/** An upload the API has received whose file the pipeline has not picked up yet. */
export interface WaitingUpload {
  id: string;
  name: string;
  size: number;
  /** ISO 8601 UTC. */
  uploadTime: string;
}

/** What `/readyz` reports: can sluice use its state store and its warehouse right now? */
export interface Readiness {
  state: boolean;
  warehouse: boolean;
  /** Why something is not ready, for the operator. */
  detail?: string;
  /** The notification outbox per target (absent without --notify). Never makes the node unready. */
  notifications?: NotificationStatus[];
}

export interface NotificationStatus {
  target: string;
  configured: boolean;
  up: boolean;
  pending: number;
  lagSeconds: number;
}

/** What the ingestor is doing right now (in memory, this process only). */
export interface Activity {
  /** Files ready and waiting for a worker (uploads included). */
  queueDepth: number;
  /** Files being worked on. */
  inFlight: number;
  /** Files seen in staging and not ready yet (stability window or sidecar). */
  pending: number;
  /** Files stalled waiting for the warehouse. */
  warehouseWaiting: number;
}

/** Everything the HTTP API reads from; `sluice serve` wires the real ones. */
export interface ApiDeps {
  store: StateStore;
  metrics: Metrics;
  /** Bearer token required on every `/api` route; null turns auth off. */
  apiToken: string | null;
  ready(): Promise<Readiness>;
  activity(): Activity;
  waiting(id: string): WaitingUpload | undefined;
  /** Any order; the API sorts. */
  waitingList(): WaitingUpload[];
}
