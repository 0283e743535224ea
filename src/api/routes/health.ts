import type { FastifyPluginAsync } from "fastify";
import type { ApiDeps, Readiness } from "../deps.js";

export const healthzSchema = {
  summary: "Liveness: the process answers",
  description: "Open (no token) and answered under any Host name, for probes.",
  tags: ["operations"],
  security: [],
  response: {
    200: {
      type: "object",
      description: "the process is alive",
      required: ["status"],
      properties: { status: { type: "string", enum: ["ok"] } },
    },
  },
} as const;

const readiness = {
  type: "object",
  required: ["status", "state", "warehouse"],
  properties: {
    status: { type: "string", enum: ["ready", "not_ready"] },
    state: { type: "boolean", description: "the state store can be used" },
    warehouse: { type: "boolean", description: "the warehouse can be written" },
    detail: { type: "string", description: "what is not ready, and why" },
    notifications: {
      type: "array",
      description:
        "with --notify: the outbox per target (events waiting, oldest one's age). Informational: notifications being down never makes the node unready",
      items: {
        type: "object",
        required: ["target", "configured", "up", "pending", "lagSeconds"],
        properties: {
          target: { type: "string", description: "the target URL without credentials" },
          configured: {
            type: "boolean",
            description: "named by --notify now; false: rows left by an earlier configuration, not delivered",
          },
          up: { type: "boolean", description: "the last delivery to it succeeded" },
          pending: { type: "integer", description: "events not yet delivered" },
          lagSeconds: { type: "number", description: "age of the oldest undelivered event (0 when none)" },
        },
      },
    },
  },
} as const;

export const readyzSchema = {
  summary: "Readiness: state store and warehouse usable",
  description: "Open (no token) and answered under any Host name, for probes. Not ready answers 503 in this shape.",
  tags: ["operations"],
  security: [],
  response: {
    200: { ...readiness, description: "the state store and the warehouse can be used" },
    503: { ...readiness, description: "something is not ready; `detail` says what" },
  },
} as const;

/** `/healthz` and `/readyz`: open (no token), for probes. */
export function healthRoutes(deps: Pick<ApiDeps, "ready">): FastifyPluginAsync {
  return async (app) => {
    app.get("/healthz", { schema: healthzSchema }, async () => ({ status: "ok" }));
    app.get("/readyz", { schema: readyzSchema }, async (_req, reply) => {
      let r: Readiness;
      try {
        r = await deps.ready();
      } catch (err) {
        // A check that throws is a check that failed: the probe must get 503, not a 500 in the error shape.
        r = { state: false, warehouse: false, detail: `readiness check failed: ${(err as Error).message}` };
      }
      const ok = r.state && r.warehouse;
      return reply.code(ok ? 200 : 503).send({ status: ok ? "ready" : "not_ready", ...r });
    });
  };
}
