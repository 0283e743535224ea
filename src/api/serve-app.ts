import type { FastifyInstance } from "fastify";
import { type BuildAppOptions, buildApp } from "./app.js";
import type { ApiDeps } from "./deps.js";
import { type ReprocessRouteDeps, reprocessRoutes } from "./routes/reprocess.js";
import { type UploadRouteDeps, uploadRoutes } from "./routes/upload.js";

/**
 * The app `sluice serve` runs: the core routes plus the upload route. The one list of what it serves, so the
 * OpenAPI document (openapi-document.ts builds it through here) cannot miss a route serve has.
 */
export function buildServeApp(
  deps: ApiDeps,
  upload: UploadRouteDeps,
  opts: Omit<BuildAppOptions, "plugins"> = {},
  /** The reprocess route's runner (issue 21); the OpenAPI build passes one that answers nothing. */
  reprocess: ReprocessRouteDeps = {
    reprocess: () => Promise.reject(new Error("reprocess is not wired in this app")),
  },
): FastifyInstance {
  return buildApp(deps, { ...opts, plugins: [uploadRoutes(upload), reprocessRoutes(deps, reprocess)] });
}
