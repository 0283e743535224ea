import { accessSync, constants, mkdirSync, statSync } from "node:fs";
import { dirname, relative, sep } from "node:path";
import { SluiceError } from "../core/errors.js";
import type { RunConfig } from "./config.js";

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !rel.startsWith(sep) && rel !== "..");
}

/** The directory itself if it exists, else its nearest existing ancestor (which must be writable). */
function checkDir(label: string, dir: string): void {
  let probe = dir;
  for (;;) {
    let st: ReturnType<typeof statSync> | undefined;
    try {
      st = statSync(probe);
    } catch {
      const up = dirname(probe);
      if (up === probe) break;
      probe = up;
      continue;
    }
    if (!st.isDirectory()) {
      throw new SluiceError("SLUICE_ERR_DIR_UNUSABLE", `${label} ${dir}: ${probe} exists and is not a directory`);
    }
    try {
      accessSync(probe, constants.R_OK | constants.W_OK | constants.X_OK);
    } catch {
      throw new SluiceError(
        "SLUICE_ERR_DIR_UNUSABLE",
        `${label} ${dir}: ${probe} is not readable and writable by this user`,
      );
    }
    return;
  }
  throw new SluiceError("SLUICE_ERR_DIR_UNUSABLE", `${label} ${dir}: no existing parent directory`);
}

/**
 * Checks every directory sluice will use, before anything is created, so a
 * bad setup exits with one line and leaves the disk untouched.
 */
export function checkDirectories(config: RunConfig): void {
  checkDir("--input", config.input);
  if (config.s3) checkDir("--scratch-dir", config.scratch);
  else checkDir("--warehouse", config.warehouse);
  checkDir("--manifests", config.manifests);
  checkDir("--errors", config.errors);
  // A shared PostgreSQL state has no local file: nothing to check here (the server is checked when opened).
  if (!config.stateUrl) checkStatePath(config.statePath);
  // Outputs inside staging would be picked up again as new input.
  for (const [label, dir] of [
    config.s3 ? ["--scratch-dir", config.scratch] : ["--warehouse", config.warehouse],
    ["--manifests", config.manifests],
    ["--errors", config.errors],
    ...(config.stateUrl ? [] : [["--state-path", dirname(config.statePath)] as const]),
  ] as const) {
    if (isInside(dir, config.input)) {
      throw new SluiceError("SLUICE_ERR_DIR_UNUSABLE", `${label} ${dir} must not be inside --input ${config.input}`);
    }
  }
  if (!config.s3 && isInside(config.input, config.warehouse)) {
    throw new SluiceError(
      "SLUICE_ERR_DIR_UNUSABLE",
      `--input ${config.input} must not be inside --warehouse ${config.warehouse}`,
    );
  }
}

function checkStatePath(statePath: string): void {
  checkDir("--state-path", dirname(statePath));
  try {
    if (statSync(statePath).isDirectory()) {
      throw new SluiceError("SLUICE_ERR_DIR_UNUSABLE", `--state-path ${statePath} is a directory; give a file path`);
    }
  } catch (err) {
    if (err instanceof SluiceError) throw err;
  }
}

export function createDirectories(config: RunConfig): void {
  const store = config.s3 ? config.scratch : config.warehouse;
  const stateDir = config.stateUrl ? [] : [dirname(config.statePath)];
  for (const dir of [config.input, store, config.manifests, config.errors, ...stateDir]) {
    mkdirSync(dir, { recursive: true });
  }
}
