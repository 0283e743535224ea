// Sensor-readings CSV for scenario h, generated in JS (deterministic, streamed to disk, never timed).
// Same model as the shared corpus' sensors/gen_sensors.py: header `sensor_id,timestamp,value`, sensors S01..S50
// with uneven weights, a Gaussian value per sensor with one fractional digit (never "-0.0"), one row per second
// from 2024-03-01T00:00:00Z, LF line endings, no quoting. Every row is valid for `--schema sensor-readings`.
// The same seed always gives the same bytes, so a smaller file is an exact prefix (row-aligned) of a larger one.
import { closeSync, openSync, writeSync } from "node:fs";
import { prng } from "./stats.mjs";

export const SENSOR_HEADER = "sensor_id,timestamp,value";
const SEED = 20240301;
const T0_MS = Date.UTC(2024, 2, 1, 0, 0, 0);
const SENSORS = 50;
const FLUSH_CHARS = 1 << 20; // ~1 MiB of ASCII per write

/** "HH:MM:SSZ" for every second of a day, so a row costs no Date formatting. */
const SECOND_OF_DAY = (() => {
  const out = new Array(86_400);
  const p = (/** @type {number} */ n) => String(n).padStart(2, "0");
  for (let s = 0; s < 86_400; s++) out[s] = `${p(Math.floor(s / 3600))}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}Z`;
  return out;
})();

/**
 * @typedef {object} SensorCsv
 * @property {string} path
 * @property {number} bytes    file size (header included)
 * @property {number} rows     data rows (header excluded)
 */

/**
 * Writes the sensor CSV to `path`, stopping at the first row boundary at or past `targetBytes`. With `slice`,
 * also writes the first rows (up to `slice.bytes`) to `slice.path` in the same pass: an exact prefix of the file.
 * @param {string} path
 * @param {number} targetBytes
 * @param {{ path: string, bytes: number }} [slice]
 * @returns {{ full: SensorCsv, slice: SensorCsv | null }}
 */
export function writeSensorCsv(path, targetBytes, slice) {
  const rng = prng(SEED);
  // Uneven per-sensor counts (weights 1..11), as in the corpus: a lookup table makes the weighted pick O(1).
  /** @type {number[]} */
  const pick = [];
  for (let k = 0; k < SENSORS; k++) for (let w = 0; w < 1 + ((k * 7) % 11); w++) pick.push(k);
  const ids = Array.from({ length: SENSORS }, (_, k) => `S${String(k + 1).padStart(2, "0")}`);
  const base = Float64Array.from({ length: SENSORS }, () => -20 + rng() * 100);
  const spread = Float64Array.from({ length: SENSORS }, () => 0.5 + rng() * 11.5);

  const fd = openSync(path, "w");
  const sfd = slice ? openSync(slice.path, "w") : null;
  let bytes = 0;
  let rows = 0;
  let sliceBytes = 0;
  let sliceRows = 0;
  let sliceOpen = sfd !== null;
  let buf = `${SENSOR_HEADER}\n`;
  let sbuf = buf;
  let second = 0;
  let dayPrefix = "";
  let day = -1;
  let spare = Number.NaN; // Box–Muller yields two normals per draw
  try {
    while (bytes + buf.length < targetBytes) {
      const k = /** @type {number} */ (pick[Math.floor(rng() * pick.length)]);
      let z;
      if (Number.isNaN(spare)) {
        const u = 1 - rng();
        const r = Math.sqrt(-2 * Math.log(u));
        const a = 2 * Math.PI * rng();
        z = r * Math.cos(a);
        spare = r * Math.sin(a);
      } else {
        z = spare;
        spare = Number.NaN;
      }
      const tenths = Math.round((base[k] + z * spread[k]) * 10);
      const abs = Math.abs(tenths);
      const value = `${tenths < 0 ? "-" : ""}${Math.floor(abs / 10)}.${abs % 10}`;
      const d = Math.floor(second / 86_400);
      if (d !== day) {
        day = d;
        dayPrefix = new Date(T0_MS + d * 86_400_000).toISOString().slice(0, 11); // "YYYY-MM-DDT"
      }
      const line = `${ids[k]},${dayPrefix}${SECOND_OF_DAY[second % 86_400]},${value}\n`;
      second++;
      buf += line;
      rows++;
      if (sliceOpen && slice) {
        if (sliceBytes + sbuf.length + line.length > slice.bytes) {
          sliceBytes += writeAll(/** @type {number} */ (sfd), sbuf);
          sbuf = "";
          sliceOpen = false;
        } else {
          sbuf += line;
          sliceRows++;
        }
      }
      if (buf.length >= FLUSH_CHARS) {
        bytes += writeAll(fd, buf);
        buf = "";
        if (sliceOpen && sbuf.length >= FLUSH_CHARS) {
          sliceBytes += writeAll(/** @type {number} */ (sfd), sbuf);
          sbuf = "";
        }
      }
    }
    bytes += writeAll(fd, buf);
    if (sfd !== null && sliceOpen) sliceBytes += writeAll(sfd, sbuf);
  } finally {
    closeSync(fd);
    if (sfd !== null) closeSync(sfd);
  }
  return {
    full: { path, bytes, rows },
    slice: slice ? { path: slice.path, bytes: sliceBytes, rows: sliceRows } : null,
  };
}

/**
 * @param {number} fd
 * @param {string} s   ASCII only, so string length = byte length
 */
function writeAll(fd, s) {
  const b = Buffer.from(s, "latin1");
  let off = 0;
  while (off < b.length) off += writeSync(fd, b, off);
  return b.length;
}
