import type { FastifyInstance } from "fastify";
import { type BuildAppOptions, buildApp } from "./app.js";
import type { ApiDeps } from "./deps.js";
import { type ReprocessRouteDeps, reprocessRoutes } from "./routes/reprocess.js";
import { type RequeueRouteDeps, requeueRoutes } from "./routes/requeue.js";
import { type UploadRouteDeps, uploadRoutes } from "./routes/upload.js";

/**
 * The app `sluice serve` runs: the core routes plus the routes that change something (upload, requeue, reprocess).
 * The one list of what it serves, so the OpenAPI document (openapi-document.ts builds it through here) cannot miss a
 * route serve has.
 */
export function buildServeApp(
  deps: ApiDeps,
  routes: { upload: UploadRouteDeps; requeue: RequeueRouteDeps; reprocess: ReprocessRouteDeps },
  opts: Omit<BuildAppOptions, "plugins"> = {},
): FastifyInstance {
  return buildApp(deps, {
    ...opts,
    plugins: [uploadRoutes(routes.upload), requeueRoutes(routes.requeue), reprocessRoutes(deps, routes.reprocess)],
  });
}
