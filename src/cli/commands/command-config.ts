import { existsSync } from "node:fs";
import type { RunConfig } from "../../config/config.js";
import { gatherLayers, type Resolved, readDotEnv, resolveOptions } from "../../config/layers.js";
import { runConfigFrom } from "../../config/resolve.js";
import type { OptionKey } from "../../config/schema.js";
import { SluiceError } from "../../core/errors.js";

/**
 * What a command working on an existing deployment reads (verify, prune, requeue): run's decided config from every
 * layer (flags, environment, .env, config file), plus the command's own options from the same layers. Throws a
 * SluiceError (SLUICE_ERR_CONFIG) the caller prints as one line, exit 2.
 */
export function commandConfig<K extends OptionKey>(
  flags: Record<string, unknown>,
  own: readonly K[],
): { config: RunConfig; options: Resolved<K> } {
  const cwd = process.cwd();
  const layers = gatherLayers(flags, process.env, readDotEnv(cwd), cwd);
  return { config: runConfigFrom(layers, cwd), options: resolveOptions(own, layers) };
}

/** An embedded state must already exist: opening a path that is not there would create an empty one. */
export function requireState(config: RunConfig): void {
  if (!config.stateUrl && !existsSync(config.statePath)) {
    throw new SluiceError("SLUICE_ERR_CONFIG", `no state database at ${config.statePath} (--state-path)`);
  }
}
