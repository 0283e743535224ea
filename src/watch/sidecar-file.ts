import { open } from "node:fs/promises";

export const SIDECAR_SUFFIX = ".ok";

const SHA256_LINE = /^\s*([0-9a-fA-F]{64})(?:\s|$)/;

/**
 * Reads the checksum an upstream may put in `NAME.ok`: the bare hex digest or
 * a `sha256sum` line (`<hex>  NAME`). Anything else (often empty) means "no
 * checksum". Only the first 4 KiB are read: a sidecar is a marker, not data.
 */
export async function readSidecarChecksum(path: string): Promise<string | null> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const m = SHA256_LINE.exec(buf.subarray(0, bytesRead).toString("utf8"));
    return m?.[1] ? m[1].toLowerCase() : null;
  } finally {
    await fh.close();
  }
}
