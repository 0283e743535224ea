// Test data: generated before each measured run (never timed), distinct contents everywhere
// so sluice's content de-duplication never turns an ingest into a cheaper duplicate.
import { randomBytes, randomFillSync } from "node:crypto";
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/**
 * @param {number} i
 */
export function smallName(i) {
  return `file-${String(i).padStart(6, "0")}.dat`;
}

/**
 * Writes `count` files of `size` bytes with distinct random contents into `dir`.
 * @param {string} dir
 * @param {number} count
 * @param {number} size
 */
export function makeSmallFiles(dir, count, size) {
  mkdirSync(dir, { recursive: true });
  const chunkFiles = Math.max(1, Math.floor((4 * MiB) / size));
  for (let start = 0; start < count; start += chunkFiles) {
    const n = Math.min(chunkFiles, count - start);
    const buf = randomBytes(n * size);
    for (let k = 0; k < n; k++) {
      writeFileSync(join(dir, smallName(start + k)), buf.subarray(k * size, (k + 1) * size));
    }
  }
}

/**
 * Writes one file of `bytes` bytes: a random 1 MiB block with a per-block counter stamped in,
 * so no two blocks are equal (cheap to generate, incompressible, not a repeated pattern).
 * @param {string} path
 * @param {number} bytes
 */
export function makeBigFile(path, bytes) {
  const block = Buffer.alloc(MiB);
  randomFillSync(block);
  const fd = openSync(path, "w");
  try {
    let written = 0;
    let i = 0;
    while (written < bytes) {
      block.writeBigUInt64LE(BigInt(i++), 0);
      const n = Math.min(block.length, bytes - written);
      writeSync(fd, block, 0, n);
      written += n;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Regular files under `dir`, recursively; hidden entries (e.g. `.sluice-tmp/`, `.keep`) are not counted.
 * @param {string} dir
 * @returns {number}
 */
export function countFiles(dir) {
  let n = 0;
  /** @type {import("node:fs").Dirent[]} */
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if (/** @type {NodeJS.ErrnoException} */ (e).code === "ENOENT") return 0;
    throw e;
  }
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    if (e.isDirectory()) n += countFiles(join(dir, e.name));
    else if (e.isFile()) n += 1;
  }
  return n;
}

/**
 * @param {string} dir
 */
export function freshDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * @param {string} path
 */
export function rmrf(path) {
  rmSync(path, { recursive: true, force: true });
}

/**
 * Device id of the filesystem holding `path`.
 * @param {string} path
 */
export function devOf(path) {
  return statSync(path).dev;
}
