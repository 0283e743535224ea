import type { FastifyPluginAsync } from "fastify";
import type { ApiDeps } from "../deps.js";
import { errorResponses } from "../errors.js";

// The 200 body is text: Fastify sends a string as it is, so this schema documents it and serializes nothing.
export const metricsSchema = {
  summary: "Prometheus metrics (text exposition format)",
  description: "Open (no token) and answered under any Host name, for Prometheus scrapers.",
  tags: ["operations"],
  security: [],
  response: {
    200: {
      description: "Prometheus text exposition format (version 0.0.4)",
      content: { "text/plain": { schema: { type: "string" } } },
    },
    ...errorResponses([500]),
  },
} as const;

/** `/metrics`: open (no token), for Prometheus scrapers. */
export function metricsRoutes(deps: Pick<ApiDeps, "metrics">): FastifyPluginAsync {
  return async (app) => {
    app.get("/metrics", { schema: metricsSchema }, async (_req, reply) => {
      const { registry } = deps.metrics;
      return reply.type(registry.contentType).send(await registry.metrics());
    });
  };
}
