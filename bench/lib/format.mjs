// Small helpers the scenarios share for their log lines and checks.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { GiB, MiB } from "./data.mjs";

/**
 * @param {number} ms
 */
export const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;

/**
 * @param {number} bytes
 */
export const human = (bytes) =>
  bytes >= GiB ? `${+(bytes / GiB).toFixed(2)} GiB` : `${+(bytes / MiB).toFixed(1)} MiB`;

/**
 * SHA-256 of a file (untimed check data), 1 MiB reads.
 * @param {string} path
 * @returns {Promise<string>}
 */
export async function sha256File(path) {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) h.update(chunk);
  return h.digest("hex");
}
