import type { FastifyPluginAsync } from "fastify";
import type { ApiDeps } from "../deps.js";

// For the OpenAPI document only: the body is text, so the route has no JSON schema to validate or serialize with.
export const metricsSchema = {
  summary: "Prometheus metrics (text exposition format)",
  tags: ["operations"],
} as const;

/** `/metrics`: open (no token), for Prometheus scrapers. */
export function metricsRoutes(deps: Pick<ApiDeps, "metrics">): FastifyPluginAsync {
  return async (app) => {
    app.get("/metrics", async (_req, reply) => {
      const { registry } = deps.metrics;
      return reply.type(registry.contentType).send(await registry.metrics());
    });
  };
}
