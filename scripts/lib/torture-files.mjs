// The torture's workload (scripts/torture.mjs): small and large files, byte-identical copies under other names,
// gzip and tar.gz archives, sensor CSVs with invalid rows, dropped into staging the way an upstream does
// (written beside, renamed in). It keeps the model of what must end up stored: each distinct raw content once.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

export const sha = (b) => createHash("sha256").update(b).digest("hex");
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A seeded generator (Park–Miller): the same seed makes the same files and the same fault schedule. */
export function random(seed) {
  let state = seed || 1;
  return () => {
    state = (state * 48271) % 2147483647;
    return state / 2147483647;
  };
}

export function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/**
 * Files for `input`, scratch work in `work`. `big` is the size range of the large files: the S3 runs make them
 * larger than a part so that they go up as multipart uploads, which a kill can leave open.
 */
export function workload(rnd, input, work, big = [1_000_000, 6_000_000]) {
  /** Every distinct raw content that must end up stored once (inputs and archive members), with where it came from. */
  const expected = new Map();
  /** Every name dropped into staging: each must get exactly one manifest line. */
  const names = [];
  const contents = [];
  let bytes = 0;

  /** `n` pseudo-random bytes (xorshift seeded from the run's generator). */
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

  function drop(name, data) {
    const tmp = join(input, `.${name}.part`);
    writeFileSync(tmp, data);
    renameSync(tmp, join(input, name));
    bytes += data.length;
    names.push(name);
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

  /** Drops file number `i`, of a random kind. */
  function make(i) {
    const roll = rnd();
    const name = `t-${String(i).padStart(5, "0")}`;
    if (roll < 0.1 && contents.length > 0) {
      drop(`${name}.copy`, contents[Math.floor(rnd() * contents.length)]);
      return;
    }
    let data;
    let file = `${name}.bin`;
    if (roll < 0.15) data = bytesOf(big[0] + Math.floor(rnd() * (big[1] - big[0])));
    else if (roll < 0.27) {
      data = sensorCsv(i);
      file = `${name}.csv`;
    } else if (roll < 0.31) {
      const member = bytesOf(200 + Math.floor(rnd() * 4000));
      data = gzipSync(member);
      expected.set(sha(member), `${name}.dat.gz → member`);
      file = `${name}.dat.gz`;
    } else if (roll < 0.34) {
      const dir = join(work, name);
      mkdirSync(dir);
      for (let m = 0; m < 3; m++) {
        const member = bytesOf(100 + Math.floor(rnd() * 3000));
        expected.set(sha(member), `${name}.tar.gz → ${name}/m${m}.bin`);
        writeFileSync(join(dir, `m${m}.bin`), member);
      }
      execFileSync("tar", ["czf", join(work, `${name}.tar.gz`), "-C", work, name]);
      data = readFileSync(join(work, `${name}.tar.gz`));
      file = `${name}.tar.gz`;
    } else data = bytesOf(50 + Math.floor(rnd() * 16_000));
    expected.set(sha(data), file);
    // Copies are made of plain files only: a copy under a non-archive name that happens to be ingested first would
    // make the archive its duplicate, and duplicates are (rightly) not expanded again, so the model would be wrong.
    if (!file.endsWith(".gz")) contents.push(data);
    drop(file, data);
  }

  /** Drops large file number `i` of `size` bytes: a multipart upload of many parts that a kill can cut. */
  function makeLarge(i, size) {
    const data = bytesOf(size);
    const file = `t-large-${String(i).padStart(2, "0")}.bin`;
    expected.set(sha(data), file);
    drop(file, data);
    return size;
  }

  return {
    make,
    makeLarge,
    expected,
    names,
    get bytes() {
      return bytes;
    },
  };
}
