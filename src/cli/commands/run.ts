import { existsSync } from "node:fs";
import { checkDirectories, createDirectories } from "../../config/check-dirs.js";
import type { RunConfig } from "../../config/config.js";
import { readDotEnv } from "../../config/layers.js";
import { resolveRunConfig } from "../../config/resolve.js";
import { SluiceError } from "../../core/errors.js";
import { IngestService } from "../../service/ingest-service.js";
import { createLogger } from "../../telemetry/logger.js";
import { type Wired, wire } from "../wire.js";

/** Parses and checks everything before touching the disk; a problem is one line on stderr and exit 2. */
export function loadRunConfig(flags: Record<string, unknown>): RunConfig | number {
  try {
    const cwd = process.cwd();
    const config = resolveRunConfig(flags, process.env, readDotEnv(cwd), cwd);
    checkDirectories(config);
    if (config.dryRun && !existsSync(config.input)) {
      throw new SluiceError(
        "SLUICE_ERR_DIR_UNUSABLE",
        `--input ${config.input} does not exist (a dry run creates nothing)`,
      );
    }
    return config;
  } catch (err) {
    process.stderr.write(`sluice: ${err instanceof SluiceError ? err.message : (err as Error).message}\n`);
    return 2;
  }
}

/** Something that runs beside the ingestor (the HTTP server of `sluice serve`), started once it is wired. */
export type Attachment = (wired: Wired, service: IngestService) => Promise<{ close(): Promise<void> }>;

export async function runCommand(flags: Record<string, unknown>): Promise<number> {
  const config = loadRunConfig(flags);
  if (typeof config === "number") return config;
  return runService(config, null);
}

/** Runs the ingestor (and an attachment) until a signal, or until drained with `--once`. */
/** A state URL for the log: the password never leaves the process. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparsable URL)";
  }
}

export async function runService(config: RunConfig, attach: Attachment | null): Promise<number> {
  if (!config.dryRun) createDirectories(config);
  const log = createLogger(config.logLevel);
  for (const warning of config.warnings) log.warn({ event: "config_warning", warning });
  let wired: Awaited<ReturnType<typeof wire>>;
  try {
    // Only an attachment (the HTTP server of `sluice serve`) reads the Prometheus registry.
    wired = await wire(config, log, { prometheus: attach !== null });
  } catch (err) {
    process.stderr.write(`sluice: cannot start: ${(err as Error).message}\n`);
    return 2;
  }
  const service = new IngestService(wired);
  let attached: { close(): Promise<void> } | null = null;
  try {
    attached = attach ? await attach(wired, service) : null;
  } catch (err) {
    process.stderr.write(`sluice: cannot start: ${(err as Error).message}\n`);
    await wired.close();
    return 2;
  }
  let stopping: Promise<void> | null = null;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn({ event: "shutdown_forced", signal });
      service.abortInFlight();
      return;
    }
    log.info({ event: "shutdown_requested", signal, in_flight: service.runner.inFlight() });
    stopping = (attached ? attached.close() : Promise.resolve()).then(() => service.stop());
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  log.info({
    event: "sluice_started",
    input: config.input,
    warehouse: config.warehouse,
    manifests: config.manifests,
    errors: config.errors,
    state_path: config.dryRun || config.stateUrl ? null : config.statePath,
    state: config.stateUrl && !config.dryRun ? redactUrl(config.stateUrl) : null,
    node_id: config.nodeId,
    mode: config.mode,
    stability_seconds: config.stabilityMs / 1000,
    concurrency: config.concurrency,
    once: config.once,
    dry_run: config.dryRun,
  });
  try {
    await service.start();
  } catch (err) {
    if (!(err instanceof SluiceError && err.code === "SLUICE_ERR_NODE_ID_IN_USE")) throw err;
    process.stderr.write(`sluice: cannot start: ${(err as Error).message}\n`);
    await wired.close();
    return 2;
  }
  // Recovery has run (the work area is emptied) and the input is watched: what a caller waiting to act on a running
  // service needs; sluice_started comes before recovery.
  log.info({ event: "sluice_ready" });
  if (config.once) {
    await Promise.race([service.drained(), new Promise<void>((r) => process.once("SIGTERM", r).once("SIGINT", r))]);
    if (!stopping) stopping = (attached ? attached.close() : Promise.resolve()).then(() => service.stop());
  }
  if (stopping) await stopping;
  else
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (stopping) {
          clearInterval(check);
          void stopping.then(resolve);
        }
      }, 50);
    });
  log.info({ event: "sluice_stopped" });
  // Abandoned work may still hold the event loop (a timer, a handle): exit now; the next start recovers it.
  if (service.abandonedWork) process.exit(0);
  return 0;
}
