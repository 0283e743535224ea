import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync, LogController } from "fastify";
import { bearerAuth } from "./auth.js";
import { dashboardRoutes } from "./dashboard.js";
import type { ApiDeps } from "./deps.js";
import { handleClientError, handleError, handleNotFound } from "./errors.js";
import { openApiRoutes, registerOpenApi } from "./openapi.js";
import { decimalIntegersOnly } from "./query-numbers.js";
import { filesReadRoutes } from "./routes/files-read.js";
import { healthRoutes } from "./routes/health.js";
import { metricsRoutes } from "./routes/metrics.js";
import { statsRoutes } from "./routes/stats.js";
import { type HostRule, siteGuard } from "./site-guard.js";

export interface BuildAppOptions {
  /**
   * Where 5xx errors are logged (event `api_error`); Fastify's per-request
   * lines stay off either way. Without it the app logs nothing.
   */
  logger?: FastifyBaseLogger;
  /**
   * More route plugins (the upload route), registered under `/api/v1` after
   * the auth hook, so they are guarded like the built-in routes and share the
   * error handler.
   */
  plugins?: FastifyPluginAsync[];
  /** Serve the dashboard built into this directory at `/` (no token: the page asks for one for the API). */
  dashboardDir?: string;
  /**
   * The names the `Host` header may carry (`sluice serve` always passes it).
   * Without it the Host check is off, as for `app.inject()` tests of routes;
   * the cross-site checks apply either way.
   */
  hosts?: HostRule;
  /**
   * Node's own timers, for every request: the headers must be in within
   * `headersTimeoutMs`, the whole request (headers and body) within
   * `requestTimeoutMs`; past either, 408 and the connection is closed.
   * Without them Fastify's default applies: no request timeout at all.
   */
  timeouts?: { headersTimeoutMs: number; requestTimeoutMs: number };
}

/**
 * The HTTP API. `/healthz`, `/readyz`, `/metrics` and the dashboard's files
 * are open; everything under `/api` needs the bearer token when
 * `deps.apiToken` is set. Before any of that, every route checks `Host` and
 * refuses state-changing requests a page on another site could send
 * (`site-guard.ts`).
 */
export function buildApp(deps: ApiDeps, opts: BuildAppOptions = {}): FastifyInstance {
  // An empty token would compare equal to an empty header value: refuse it rather than guard with it.
  if (deps.apiToken === "") throw new Error("apiToken must be null (auth off) or a non-empty string");
  const app: FastifyInstance = Fastify({
    ...(opts.logger
      ? { loggerInstance: opts.logger, logController: new LogController({ disableRequestLogging: true }) }
      : { logger: false }),
    // Errors raised before routing (a malformed URL) get the same shape as the rest.
    frameworkErrors: (err, req, reply) => handleError(err, req, reply),
    clientErrorHandler: handleClientError,
    // PUT /api/v1/files/{name} takes a file name of up to 255 bytes, percent-encoded up to 3 characters a byte: a name
    // POST accepts must not be refused for its length in the URL (Fastify's default caps a parameter at 100).
    routerOptions: { maxParamLength: 1024 },
    ...(opts.timeouts
      ? {
          requestTimeout: opts.timeouts.requestTimeoutMs,
          http: {
            headersTimeout: opts.timeouts.headersTimeoutMs,
            requestTimeout: opts.timeouts.requestTimeoutMs,
            // Node checks the two timers only this often (30 s by default): a short timeout needs a shorter beat.
            connectionsCheckingInterval: Math.min(1000, Math.max(50, opts.timeouts.headersTimeoutMs / 4)),
          },
        }
      : {}),
  });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(handleNotFound);
  app.addHook("preValidation", decimalIntegersOnly);
  app.addHook("onResponse", async (req, reply) => {
    // The route pattern, never the URL: ids in label values would grow the registry without bound.
    const route = req.is404 ? "not_found" : (req.routeOptions.url ?? "unknown");
    deps.metrics.observeHttp(req.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });

  // Before any route: the document is generated from the routes as they are added.
  registerOpenApi(app);
  // On the root instance, before the routes: it guards the dashboard, the probes and the 404 handler as well.
  app.addHook("onRequest", siteGuard(opts.hosts ?? null));
  app.register(healthRoutes(deps));
  app.register(metricsRoutes(deps));
  if (opts.dashboardDir) app.register(dashboardRoutes(opts.dashboardDir));
  app.register(
    async (api) => {
      if (deps.apiToken) api.addHook("onRequest", bearerAuth(deps.apiToken));
      // Its own 404 handler makes unknown /api paths pass the auth hook too: no probing for routes without a token.
      api.setNotFoundHandler(handleNotFound);
      await api.register(
        async (v1) => {
          await v1.register(filesReadRoutes(deps));
          await v1.register(statsRoutes(deps));
          await v1.register(openApiRoutes);
          for (const plugin of opts.plugins ?? []) await v1.register(plugin);
        },
        { prefix: "/v1" },
      );
    },
    { prefix: "/api" },
  );
  return app;
}
