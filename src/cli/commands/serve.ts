import { defaultDashboardDir } from "../../api/dashboard.js";
import { buildServeApp } from "../../api/serve-app.js";
import { checkListen, isLoopbackAddress, type ListenExposure } from "../../config/listen-check.js";
import { readDotEnv } from "../../config/resolve.js";
import { resolveServeConfig } from "../../config/serve-options.js";
import { SluiceError } from "../../core/errors.js";
import { hashPath } from "../../hashing/hash-path.js";
import { ManifestWriter } from "../../manifest/manifest-writer.js";
import { reprocessFile } from "../../pipeline/reprocess/reprocess-file.js";
import { newOwner, type ReprocessDeps, reprocessManifestName } from "../../pipeline/reprocess/reprocess-finish.js";
import { requeueFile } from "../../requeue/requeue-file.js";
import { UploadRegistry } from "../../service/upload-registry.js";
import { makeIgnoreRule } from "../../watch/ignore-rules.js";
import type { Wired } from "../wire.js";
import { loadRunConfig, runService } from "./run.js";

/** Is the warehouse usable right now? A directory must be writable; an S3 bucket must answer HeadBucket. */
async function warehouseReady(wired: Wired): Promise<boolean> {
  const { ctx } = wired;
  try {
    await Promise.race([
      ctx.warehouse.check(),
      new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 2000).unref()),
    ]);
    return true;
  } catch {
    return false;
  }
}

/** `sluice serve`: `sluice run` plus the HTTP API (uploads, status, /metrics, health) on `--listen`. */
export async function serveCommand(flags: Record<string, unknown>): Promise<number> {
  const config = loadRunConfig(flags);
  if (typeof config === "number") return config;
  let serve: ReturnType<typeof resolveServeConfig>;
  let exposure: ListenExposure;
  try {
    const cwd = process.cwd();
    serve = resolveServeConfig(flags, process.env, readDotEnv(cwd), cwd);
    exposure = await checkListen(serve);
  } catch (err) {
    process.stderr.write(`sluice: ${err instanceof SluiceError ? err.message : (err as Error).message}\n`);
    return 2;
  }
  if (config.once || config.dryRun) {
    process.stderr.write("sluice: serve runs until stopped; use `sluice run` for --once or --dry-run\n");
    return 2;
  }
  return runService(config, async (wired, service) => {
    const { ctx } = wired;
    const registry = new UploadRegistry();
    ctx.uploads = registry;
    // POST /files/:id/reprocess runs here, in the serving process, with its processors and schema (issue 21).
    const reprocessDeps: ReprocessDeps = {
      ctx,
      manifests: new ManifestWriter(config.manifests, ctx.dirs, reprocessManifestName(ctx)),
      owner: newOwner(),
    };
    const app = buildServeApp(
      {
        store: ctx.store,
        metrics: ctx.metrics,
        apiToken: serve.apiToken,
        async ready() {
          let state = true;
          try {
            await ctx.store.countByState();
          } catch {
            state = false;
          }
          // Informational only: a target being down must not take the node out of a load balancer.
          const notifications = await wired.outbox?.status().catch(() => undefined);
          return { state, warehouse: await warehouseReady(wired), ...(notifications ? { notifications } : {}) };
        },
        activity: () => service.activity(),
        // The listing and detail routes look in the store first: an upload it has recorded is shown from its row.
        waiting: (id) => registry.get(id),
        waitingList: () => registry.list(),
      },
      {
        upload: {
          input: config.input,
          registry,
          dirs: ctx.dirs,
          offer: (c) => service.runner.offer(c),
          maxUploadBytes: serve.maxUploadBytes,
          limits: serve.limits,
          isIgnored: makeIgnoreRule(config.ignore),
        },
        // The hand-off through staging, as `sluice requeue` does it: this service's watcher then ingests the file.
        requeue: {
          requeue: (id) =>
            requeueFile(
              { store: ctx.store, input: config.input, dirs: ctx.dirs, hash: (p) => hashPath(ctx.hasher, p) },
              id,
            ),
        },
        reprocess: { reprocess: (id) => reprocessFile(reprocessDeps, id) },
      },
      {
        // Every 5xx logs its detail (event api_error): without the logger the promised line was never written.
        logger: ctx.log,
        dashboardDir: defaultDashboardDir(),
        hosts: { listenHost: serve.host, loopback: exposure.loopback, allowed: serve.allowedHosts },
        timeouts: { headersTimeoutMs: serve.limits.headersTimeoutMs, requestTimeoutMs: serve.limits.uploadTimeoutMs },
      },
    );
    const address = await app.listen({ host: serve.host, port: serve.port });
    // The name was resolved once to decide; Fastify resolved it again to bind. Without a token, what was bound
    // is what counts: a name that changed its answer in between must not leave an open API on the network.
    const bound = app.addresses().map((a) => (typeof a === "string" ? a : a.address));
    if (!serve.apiToken && !serve.insecureNoAuth && !bound.every(isLoopbackAddress)) {
      await app.close();
      throw new SluiceError("SLUICE_ERR_CONFIG", `--listen ${serve.host} bound ${bound.join(", ")} without a token`);
    }
    for (const warning of serve.warnings) ctx.log.warn({ event: "config_warning", warning });
    ctx.log.info({ event: "http_listening", address, auth: serve.apiToken ? "bearer token" : "none" });
    // Uploads in progress get a few seconds to finish; a client that stalls (a body that stops coming, a response
    // nobody reads) must not hold the shutdown: its connection is cut, or its open socket alone would keep the
    // process alive after `sluice_stopped` (for ever, for a request that never ends).
    return {
      close: async () => {
        const closed = app.close().then(() => reprocessDeps.manifests.close());
        const wait = (ms: number) => new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref());
        if (!(await Promise.race([closed.then(() => true), wait(10_000)]))) {
          app.server.closeAllConnections();
          await Promise.race([closed, wait(1_000)]);
        }
      },
    };
  });
}
