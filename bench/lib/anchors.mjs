// The tools a user would pick instead of sluice, detected (and installed from Debian if missing),
// and run on the same data in the same run.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { countFiles } from "./data.mjs";
import { GNU_TIME, runTimed, sh, tail } from "./proc.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * @typedef {{ name: string, available: boolean, path: string | null, version: string | null, note: string | null }} Tool
 */

/**
 * @param {string} bin
 */
function which(bin) {
  if (bin.startsWith("/")) return existsSync(bin) ? bin : null;
  const r = spawnSync("sh", ["-c", `command -v ${bin}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() || null : null;
}

/**
 * Finds rclone and GNU time; installs the missing ones with apt-get (update first) unless told not to.
 * Never skips silently: a tool still missing is reported as "ANCHOR MISSING: …" by the caller.
 * @param {{ install: boolean, log: (s: string) => void }} o
 * @returns {{ rclone: Tool, time: Tool }}
 */
export function detectAnchors(o) {
  const wanted = [
    { name: "rclone", bin: "rclone", pkg: "rclone" },
    { name: "time", bin: GNU_TIME, pkg: "time" },
  ];
  const missing = wanted.filter((w) => !which(w.bin));
  let installNote = null;
  if (missing.length > 0 && o.install) {
    const pkgs = missing.map((m) => m.pkg);
    o.log(`installing missing anchor tools from Debian: ${pkgs.join(" ")} (apt-get update && apt-get install -y)`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const up = spawnSync("apt-get", ["update", "-qq"], { encoding: "utf8", env });
    const inst =
      up.status === 0 ? spawnSync("apt-get", ["install", "-y", "-qq", ...pkgs], { encoding: "utf8", env }) : up;
    if (inst.error || inst.status !== 0) {
      installNote = `apt-get failed: ${inst.error?.message ?? `exit ${inst.status}`} ${(inst.stderr ?? "").trim().split("\n").slice(-2).join(" ")}`;
    }
  } else if (missing.length > 0) {
    installNote = "not installed (--no-install)";
  }
  /** @type {Record<string, Tool>} */
  const out = {};
  for (const w of wanted) {
    const path = which(w.bin);
    let version = null;
    if (path && w.name === "rclone") {
      version = sh(path, ["version"], { allowFail: true }).stdout?.split("\n")[0]?.trim() ?? null;
    }
    if (path && w.name === "time") {
      version = sh(path, ["--version"], { allowFail: true }).stdout?.split("\n")[0]?.trim() ?? null;
    }
    out[w.name] = {
      name: w.name,
      available: path !== null,
      path,
      version,
      note: path ? null : `${w.pkg}: ${installNote ?? "not found"}`,
    };
  }
  return /** @type {{ rclone: Tool, time: Tool }} */ (out);
}

/**
 * @typedef {{ wallMs: number }} AnchorRun
 */

/**
 * @param {import("./proc.mjs").TimedResult} r
 * @param {string} what
 */
function checkExit(r, what) {
  if (r.timedOut) throw new Error(`${what} timed out\n${tail(r.stderrPath)}`);
  if (r.code !== 0) throw new Error(`${what} exited ${r.code ?? r.signal}\n${tail(r.stderrPath)}`);
}

/**
 * `rclone move SRC DST` with local paths, default settings (no hashing on a same-filesystem move, no fsync,
 * no state). DST already exists and holds a hidden `.keep`, as a real warehouse is never empty: otherwise
 * rclone renames the whole staging directory in one call instead of moving the files.
 * @param {string} rclone
 * @param {string} root    cwd and place for logs and the empty config
 * @param {string} src
 * @param {string} dst
 * @param {number} expectFiles
 * @param {number} timeoutMs
 * @returns {Promise<AnchorRun>}
 */
export async function rcloneMove(rclone, root, src, dst, expectFiles, timeoutMs) {
  writeFileSync(join(dst, ".keep"), "warehouse\n");
  const config = join(root, "rclone.conf");
  writeFileSync(config, "");
  const env = { ...process.env };
  delete env.AWS_CA_BUNDLE;
  for (const k of Object.keys(env)) if (k.startsWith("RCLONE_")) delete env[k];
  env.RCLONE_CONFIG = config;
  const r = await runTimed(rclone, ["move", src, dst], {
    cwd: root,
    env,
    stdoutPath: join(root, "rclone.stdout.txt"),
    stderrPath: join(root, "rclone.stderr.txt"),
    timeoutMs,
  });
  checkExit(r, "rclone move");
  const moved = countFiles(dst);
  const left = countFiles(src);
  if (moved !== expectFiles || left !== 0) {
    throw new Error(`rclone move: expected ${expectFiles} files moved, destination holds ${moved}, source ${left}`);
  }
  return { wallMs: r.wallMs };
}

/**
 * @typedef {object} RcloneS3Remote
 * @property {string} provider   rclone's S3 provider name: "Ceph" (RADOS Gateway), "Other" (s3rver)
 * @property {string} endpoint
 * @property {string} accessKeyId
 * @property {string} secretAccessKey
 * @property {string} region
 */

/** The name of the rclone remote the S3 anchor defines in its environment (`RCLONE_CONFIG_<NAME>_*`). */
export const RCLONE_S3_REMOTE = "benchs3";

/**
 * The environment of `rclone copy` to S3: the remote is defined entirely by `RCLONE_CONFIG_BENCHS3_*` variables
 * (type, provider, endpoint, keys, region) next to an empty config file, so neither a user's rclone.conf nor the
 * machine's `RCLONE_*` settings apply. Every `AWS_*` variable is unset: rclone's S3 backend fails when
 * AWS_CA_BUNDLE is set (this environment sets it machine-wide), and AWS_PROFILE, AWS_REGION … must not change it.
 * Everything else is rclone's default (4 transfers, 8 checkers, 5 MiB chunks above 200 MiB, MD5 of the source
 * stored as metadata, a HEAD after each upload).
 * @param {string} root
 * @param {RcloneS3Remote} remote
 */
export function rcloneS3Env(root, remote) {
  const config = join(root, "rclone.conf");
  writeFileSync(config, "");
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("RCLONE_") || k.startsWith("AWS_")) delete env[k];
  const v = `RCLONE_CONFIG_${RCLONE_S3_REMOTE.toUpperCase()}_`;
  Object.assign(env, {
    RCLONE_CONFIG: config,
    [`${v}TYPE`]: "s3",
    [`${v}PROVIDER`]: remote.provider,
    [`${v}ENDPOINT`]: remote.endpoint,
    [`${v}ACCESS_KEY_ID`]: remote.accessKeyId,
    [`${v}SECRET_ACCESS_KEY`]: remote.secretAccessKey,
    [`${v}REGION`]: remote.region,
  });
  return env;
}

/**
 * `rclone copy SRC benchs3:BUCKET/PREFIX` (the source stays in place), timed spawn → exit, its peak RSS by
 * GNU time when `rss`. Throws unless it exits 0; what landed is checked by the caller.
 * @param {string} rclone
 * @param {string} root    cwd and place for logs and the empty config
 * @param {string} src
 * @param {RcloneS3Remote} remote
 * @param {string} dest    BUCKET/PREFIX
 * @param {number} timeoutMs
 * @param {boolean} rss
 * @returns {Promise<AnchorRun & { peakRssKiB: number | null }>}
 */
export async function rcloneCopyS3(rclone, root, src, remote, dest, timeoutMs, rss) {
  const r = await runTimed(rclone, ["copy", src, `${RCLONE_S3_REMOTE}:${dest}`], {
    cwd: root,
    env: rcloneS3Env(root, remote),
    stdoutPath: join(root, "rclone.stdout.txt"),
    stderrPath: join(root, "rclone.stderr.txt"),
    timeoutMs,
    rssPath: rss ? join(root, "rclone.rss.txt") : undefined,
  });
  checkExit(r, `rclone copy ${src} ${RCLONE_S3_REMOTE}:${dest}`);
  return { wallMs: r.wallMs, peakRssKiB: r.peakRssKiB };
}

/** The shell loop of the issue, verbatim. */
export const SHELL_LOOP =
  'for f in staging/*; do h=$(sha256sum "$f" | cut -d\' \' -f1); mv "$f" "wh/$(basename "$f")"; ' +
  'printf \'{"path":"%s","sha256":"%s"}\\n\' "$f" "$h" >> manifest.jsonl; done';

/**
 * @param {string} root  holds staging/ (filled) and wh/ (empty)
 * @param {number} expectFiles
 * @param {number} timeoutMs
 * @returns {Promise<AnchorRun>}
 */
export async function shellLoop(root, expectFiles, timeoutMs) {
  const r = await runTimed("bash", ["-c", SHELL_LOOP], {
    cwd: root,
    stdoutPath: join(root, "loop.stdout.txt"),
    stderrPath: join(root, "loop.stderr.txt"),
    timeoutMs,
  });
  checkExit(r, "shell loop");
  const moved = countFiles(join(root, "wh"));
  const lines = readFileSync(join(root, "manifest.jsonl"), "utf8").trim().split("\n").length;
  if (moved !== expectFiles || lines !== expectFiles) {
    throw new Error(`shell loop: expected ${expectFiles} files, wh holds ${moved}, manifest has ${lines} lines`);
  }
  return { wallMs: r.wallMs };
}

/**
 * Node's raw streaming SHA-256 of `file` (bench/lib/raw-hash.mjs), as its own process.
 * @param {string} root
 * @param {string} file
 * @param {number} timeoutMs
 * @param {number} [readSize]  bytes per read; default: Node's 64 KiB
 * @returns {Promise<AnchorRun & { sha256: string }>}
 */
export async function rawHash(root, file, timeoutMs, readSize = 0) {
  const args = [join(HERE, "raw-hash.mjs"), file];
  if (readSize > 0) args.push(String(readSize));
  const r = await runTimed(process.execPath, args, {
    cwd: root,
    stdoutPath: join(root, "rawhash.stdout.txt"),
    stderrPath: join(root, "rawhash.stderr.txt"),
    timeoutMs,
  });
  checkExit(r, "raw hash");
  return { wallMs: r.wallMs, sha256: readFileSync(r.stdoutPath, "utf8").trim() };
}

/**
 * `cp SRC DST && sync`.
 * @param {string} root
 * @param {string} src
 * @param {string} dst
 * @param {number} timeoutMs
 * @returns {Promise<AnchorRun>}
 */
export async function cpSync(root, src, dst, timeoutMs) {
  const r = await runTimed("sh", ["-c", 'cp -- "$1" "$2" && sync', "sh", src, dst], {
    cwd: root,
    stdoutPath: join(root, "cp.stdout.txt"),
    stderrPath: join(root, "cp.stderr.txt"),
    timeoutMs,
  });
  checkExit(r, "cp + sync");
  if (statSync(dst).size !== statSync(src).size) throw new Error("cp + sync: destination size differs");
  return { wallMs: r.wallMs };
}
