import type { FastifyPluginAsync } from "fastify";
import type { ApiDeps, Readiness } from "../deps.js";
import { errorResponses } from "../errors.js";

const count = { type: "integer", minimum: 0 } as const;

export const statsSchema = {
  summary: "Live counters, activity, health and the last 15 minutes of throughput (the dashboard's overview)",
  description:
    "Counts come from the state store (every file it holds, all hosts sharing it); activity and throughput are " +
    "this process's, since it started.",
  tags: ["operations"],
  response: {
    200: {
      type: "object",
      description: "counts, activity, health and throughput",
      required: ["counts", "activity", "health", "throughput"],
      properties: {
        counts: {
          type: "object",
          required: ["ingested", "duplicates", "failed", "processing", "waiting"],
          properties: {
            ingested: { ...count, description: "stored (processed or partial)" },
            duplicates: { ...count, description: "same content as a stored file: recorded, not stored again" },
            failed: { ...count, description: "quarantined in the error directory" },
            processing: { ...count, description: "recorded and between steps" },
            waiting: { ...count, description: "in staging or uploaded, not started yet (pending + queued)" },
          },
        },
        activity: {
          type: "object",
          required: ["queue_depth", "in_flight", "pending", "warehouse_waiting"],
          properties: {
            queue_depth: { ...count, description: "ready, waiting for a worker" },
            in_flight: { ...count, description: "being worked on now" },
            pending: { ...count, description: "seen in staging, not ready yet" },
            warehouse_waiting: { ...count, description: "stalled waiting for the warehouse" },
          },
        },
        health: {
          type: "object",
          required: ["state", "warehouse"],
          properties: {
            state: { type: "boolean" },
            warehouse: { type: "boolean" },
            detail: { type: "string" },
          },
        },
        throughput: {
          type: "object",
          required: ["bucket_seconds", "points"],
          properties: {
            bucket_seconds: { type: "number" },
            points: {
              type: "array",
              description: "oldest first; the last point is the current, partly elapsed slot",
              items: {
                type: "object",
                required: ["t", "files", "bytes", "seconds"],
                properties: {
                  t: { type: "number", description: "slot start, ms since the epoch" },
                  files: { ...count, description: "files finished in the slot (ingested, duplicate or failed)" },
                  bytes: { ...count, description: "bytes ingested in the slot" },
                  seconds: { type: "number", description: "elapsed length of the slot" },
                },
              },
            },
          },
        },
      },
    },
    ...errorResponses([401, 421, 500, 503]),
  },
} as const;

const IN_FLIGHT_STATES = ["discovered", "hashed", "stored", "manifested"];

/** Counts and readiness are cached this long: every open dashboard polls, and a count scans the state index. */
const CACHE_MS = 1_000;

/** `GET /api/v1/stats`. */
export function statsRoutes(deps: Pick<ApiDeps, "store" | "metrics" | "ready" | "activity">): FastifyPluginAsync {
  let cached: { at: number; counts: Record<string, number>; health: Readiness } | null = null;
  const slow = async () => {
    if (cached && Date.now() - cached.at < CACHE_MS) return cached;
    let health: Readiness;
    try {
      health = await deps.ready();
    } catch (err) {
      health = { state: false, warehouse: false, detail: `readiness check failed: ${(err as Error).message}` };
    }
    cached = { at: Date.now(), counts: await deps.store.countByState(), health };
    return cached;
  };
  return async (app) => {
    app.get("/stats", { schema: statsSchema }, async () => {
      const { counts, health } = await slow();
      const a = deps.activity();
      const n = (state: string) => counts[state] ?? 0;
      const { history } = deps.metrics;
      return {
        counts: {
          ingested: n("done"),
          duplicates: n("duplicate"),
          failed: n("quarantine") + n("failed"),
          processing: IN_FLIGHT_STATES.reduce((sum, s) => sum + n(s), 0),
          waiting: a.pending + a.queueDepth,
        },
        activity: {
          queue_depth: a.queueDepth,
          in_flight: a.inFlight,
          pending: a.pending,
          warehouse_waiting: a.warehouseWaiting,
        },
        health,
        throughput: { bucket_seconds: history.bucketMs / 1000, points: history.series() },
      };
    });
  };
}
