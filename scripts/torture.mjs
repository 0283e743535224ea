#!/usr/bin/env node
// `npm run torture -- --kills N --files M [--warehouse same|other] [--seed S]`
//
// A long randomized run: small and large files, byte-identical copies under other names, gzip and tar.gz archives,
// sensor CSVs (with invalid rows) converted to Parquet, dropped into staging while sluice runs; sluice is SIGKILLed
// at random moments N times and restarted each time. At the end a last `sluice run --once` drains staging, then
// `sluice verify` must report no drift, and the set of raw contents in the warehouse must equal the set of distinct
// inputs (archive members included): nothing lost, nothing stored twice. Prints the figures; exit 0 only if clean.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";

const BIN = fileURLToPath(new URL("../bin/sluice.js", import.meta.url));

function args() {
  const { values } = parseArgs({
    options: {
      kills: { type: "string", default: "20" },
      files: { type: "string", default: "500" },
      warehouse: { type: "string", default: "same" },
      seed: { type: "string", default: String(Date.now() % 1_000_000) },
      keep: { type: "boolean", default: false },
    },
  });
  const o = {
    kills: Number(values.kills),
    files: Number(values.files),
    warehouse: values.warehouse,
    seed: Number(values.seed),
    keep: values.keep,
  };
  if (!(o.kills >= 0 && o.files >= 1) || !["same", "other"].includes(o.warehouse)) {
    throw new Error("usage: --kills N --files M [--warehouse same|other] [--seed S] [--keep]");
  }
  return o;
}

const opts = args();
let state = opts.seed || 1;
const rnd = () => {
  state = (state * 48271) % 2147483647;
  return state / 2147483647;
};
const sha = (b) => createHash("sha256").update(b).digest("hex");
/** `n` pseudo-random bytes (xorshift seeded from the run's seed: the same seed makes the same files). */
const bytesOf = (n) => {
  const b = Buffer.allocUnsafe(n);
  let x = (rnd() * 0xffffffff) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
};

const root = mkdtempSync(join(tmpdir(), "sluice-torture-"));
const other = opts.warehouse === "other" ? mkdtempSync("/dev/shm/sluice-torture-") : null;
const d = {
  input: join(root, "staging"),
  warehouse: join(other ?? root, "warehouse"),
  manifests: join(root, "manifests"),
  errors: join(root, "errors"),
  statePath: join(root, "state", "sluice.db"),
  work: join(root, "work"),
};
for (const dir of [d.input, d.work]) mkdirSync(dir, { recursive: true });
const common = ["--input", d.input, "--warehouse", d.warehouse, "--manifests", d.manifests, "--errors", d.errors];
common.push("--state-path", d.statePath, "--schema", "sensor-readings", "--log-level", "warn");

/** Every distinct raw content that must end up stored once (inputs and archive members), with where it came from. */
const expected = new Map();
const contents = [];
let bytes = 0;

function drop(name, data) {
  const tmp = join(d.input, `.${name}.part`);
  writeFileSync(tmp, data);
  renameSync(tmp, join(d.input, name));
  bytes += data.length;
}

function sensorCsv(i) {
  const rows = ["sensor_id,timestamp,value"];
  const n = 20 + Math.floor(rnd() * 200);
  for (let r = 0; r < n; r++) {
    const bad = rnd() < 0.05 && r > 0;
    const t = new Date(Date.UTC(2024, 0, 1) + (i * 1000 + r) * 1000).toISOString().replace(".000", "");
    rows.push(bad ? `S${r % 7},not-a-time,1` : `S${r % 7},${t},${(rnd() * 100 - 20).toFixed(1)}`);
  }
  return Buffer.from(`${rows.join("\n")}\n`);
}

/** One new file of a random kind; returns its name. */
function makeFile(i) {
  const roll = rnd();
  const name = `t-${String(i).padStart(5, "0")}`;
  if (roll < 0.1 && contents.length > 0) {
    const data = contents[Math.floor(rnd() * contents.length)];
    drop(`${name}.copy`, data);
    return;
  }
  let data;
  let file = `${name}.bin`;
  if (roll < 0.15) data = bytesOf(1_000_000 + Math.floor(rnd() * 5_000_000));
  else if (roll < 0.27) {
    data = sensorCsv(i);
    file = `${name}.csv`;
  } else if (roll < 0.31) {
    const member = bytesOf(200 + Math.floor(rnd() * 4000));
    data = gzipSync(member);
    expected.set(sha(member), `${name}.dat.gz → member`);
    file = `${name}.dat.gz`;
  } else if (roll < 0.34) {
    const dir = join(d.work, name);
    mkdirSync(dir);
    for (let m = 0; m < 3; m++) {
      const member = bytesOf(100 + Math.floor(rnd() * 3000));
      expected.set(sha(member), `${name}.tar.gz → ${name}/m${m}.bin`);
      writeFileSync(join(dir, `m${m}.bin`), member);
    }
    execFileSync("tar", ["czf", join(d.work, `${name}.tar.gz`), "-C", d.work, name]);
    data = readFileSync(join(d.work, `${name}.tar.gz`));
    file = `${name}.tar.gz`;
  } else data = bytesOf(50 + Math.floor(rnd() * 16_000));
  expected.set(sha(data), file);
  // Copies are made of plain files only: a copy under a non-archive name that happens to be ingested first would
  // make the archive its duplicate, and duplicates are (rightly) not expanded again, so the model would be wrong.
  if (!file.endsWith(".gz")) contents.push(data);
  drop(file, data);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function start(extra = []) {
  const child = spawn(
    process.execPath,
    [BIN, "run", ...common, "--stability-seconds", "0.1", "--scan-interval", "1", ...extra],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let err = "";
  child.stderr.on("data", (c) => {
    err += c;
  });
  const exited = new Promise((r) => child.on("close", (code, signal) => r({ code, signal, err })));
  return { child, exited };
}

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

async function main() {
  const t0 = Date.now();
  let made = 0;
  // Files arrive over the whole run, so kills land in every step: discovery, hashing, conversion, archive
  // expansion, the rename, the manifest append, the source removal.
  const perKill = Math.max(1, Math.ceil(opts.files / Math.max(1, opts.kills)));
  for (let k = 0; k < opts.kills; k++) {
    for (let j = 0; j < perKill && made < opts.files; j++) makeFile(made++);
    const p = start();
    await sleep(150 + rnd() * 1200);
    p.child.kill("SIGKILL");
    const r = await p.exited;
    if (r.signal !== "SIGKILL" && r.code !== 0) throw new Error(`sluice exited ${r.code} before its kill: ${r.err}`);
  }
  while (made < opts.files) makeFile(made++);
  const last = start(["--once", "--stability-seconds", "0"]);
  const r = await last.exited;
  if (r.code !== 0) throw new Error(`the final sluice run --once exited ${r.code}: ${r.err}`);

  const v = spawn(process.execPath, [BIN, "verify", ...common, "--json"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  v.stdout.on("data", (c) => {
    out += c;
  });
  const vCode = await new Promise((res) => v.on("close", res));
  const report = JSON.parse(out);

  const raw = walk(d.warehouse).filter(
    (p) =>
      !relative(d.warehouse, p).startsWith(".sluice-tmp") &&
      !/\.(parquet|rejects\.jsonl)$/.test(p) &&
      !p.includes(".tables/"),
  );
  const stored = raw.map((p) => sha(readFileSync(p)));
  const storedSet = new Set(stored);
  const lostList = [...expected].filter(([h]) => !storedSet.has(h)).map(([, from]) => from);
  const lost = lostList.length;
  const doubled = stored.length - storedSet.size;
  const extra = [...storedSet].filter((h) => !expected.has(h)).length;
  const leftInStaging = readdirSync(d.input).length;
  const failed = walk(d.errors).filter((p) => !p.endsWith(".error.json"));
  const summary = {
    seed: opts.seed,
    warehouse: opts.warehouse === "other" ? "other filesystem (/dev/shm)" : "same filesystem",
    kills: opts.kills,
    files: made,
    bytes,
    distinct_contents: expected.size,
    stored_raw_objects: stored.length,
    lost,
    duplicated: doubled,
    lost_examples: lostList.slice(0, 5),
    unexpected: extra,
    left_in_staging: leftInStaging,
    quarantined: failed.length,
    verify_ok: report.ok,
    verify_exit: vCode,
    verify_problems: report.problems.slice(0, 5),
    seconds: Math.round((Date.now() - t0) / 100) / 10,
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  const clean = report.ok && vCode === 0 && lost === 0 && doubled === 0 && extra === 0 && leftInStaging === 0;
  if (!opts.keep && clean) {
    rmSync(root, { recursive: true, force: true });
    if (other) rmSync(other, { recursive: true, force: true });
  } else if (!clean) process.stdout.write(`kept for inspection: ${root}${other ? ` and ${other}` : ""}\n`);
  process.exitCode = clean ? 0 : 1;
}

main().catch((err) => {
  process.stderr.write(`torture: ${err.stack ?? err}\nkept: ${root}\n`);
  process.exitCode = 2;
});
