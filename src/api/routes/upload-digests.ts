import { createHash, type Hash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { Transform, type TransformCallback } from "node:stream";
import { ApiError } from "../errors.js";

/**
 * The integrity headers a raw-body upload (PUT /api/v1/files/{name}) may carry, each checked when given:
 * `Content-MD5` (RFC 1864, base64), `x-amz-checksum-sha256` (S3, base64), `Digest: sha-256=…` or `md5=…`
 * (RFC 3230, base64; other algorithms are ignored, as RFC 3230 lets a server do) and `X-Sluice-Sha256` (hex).
 * Only the algorithms asked for are computed, while the body is written: no second read of the file.
 */

type Algorithm = "md5" | "sha256";

export interface ExpectedDigest {
  header: string;
  algorithm: Algorithm;
  digest: Buffer;
}

const LENGTH: Record<Algorithm, number> = { md5: 16, sha256: 32 };

function base64Digest(header: string, algorithm: Algorithm, value: string): ExpectedDigest {
  const digest = Buffer.from(value.trim(), "base64");
  // Strict: the value must be exactly the base64 of a digest of the right length (Buffer.from skips junk silently).
  if (digest.length !== LENGTH[algorithm] || digest.toString("base64") !== value.trim()) {
    throw new ApiError(
      "SLUICE_ERR_BAD_REQUEST",
      `${header}: "${value.slice(0, 100)}" is not the base64 of a ${algorithm === "md5" ? "MD5" : "SHA-256"} digest`,
    );
  }
  return { header, algorithm, digest };
}

function one(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(",") : v;
}

/** The digests the request's headers promise; a malformed header is a 400 (SLUICE_ERR_BAD_REQUEST). */
export function expectedDigests(headers: IncomingHttpHeaders): ExpectedDigest[] {
  const out: ExpectedDigest[] = [];
  const md5 = one(headers, "content-md5");
  if (md5 !== undefined) out.push(base64Digest("Content-MD5", "md5", md5));
  const amz = one(headers, "x-amz-checksum-sha256");
  if (amz !== undefined) out.push(base64Digest("x-amz-checksum-sha256", "sha256", amz));
  const digest = one(headers, "digest");
  if (digest !== undefined) {
    for (const item of digest.split(",")) {
      const eq = item.indexOf("=");
      if (eq < 0) continue;
      const alg = item.slice(0, eq).trim().toLowerCase();
      const value = item.slice(eq + 1).trim();
      if (alg === "sha-256") out.push(base64Digest("Digest sha-256", "sha256", value));
      else if (alg === "md5") out.push(base64Digest("Digest md5", "md5", value));
    }
  }
  const hex = one(headers, "x-sluice-sha256");
  if (hex !== undefined) {
    if (!/^[0-9a-fA-F]{64}$/.test(hex.trim())) {
      throw new ApiError("SLUICE_ERR_BAD_REQUEST", `X-Sluice-Sha256: "${hex.slice(0, 100)}" is not 64 hex digits`);
    }
    out.push({ header: "X-Sluice-Sha256", algorithm: "sha256", digest: Buffer.from(hex.trim(), "hex") });
  }
  return out;
}

/**
 * Passes the body through unchanged (the same chunks, no copy), counting its bytes against the size limit and
 * feeding the hashes the request asked for. Over the limit it fails with `overLimit()` (a 413): a chunked body has
 * no Content-Length to refuse up front.
 */
export class BodyTap extends Transform {
  bytes = 0;
  private readonly hashes = new Map<Algorithm, Hash>();
  private results: Map<Algorithm, Buffer> | null = null;

  constructor(
    wanted: readonly ExpectedDigest[],
    private readonly maxBytes: number,
    private readonly overLimit: () => Error,
  ) {
    // Large buffers both sides: the socket's chunks (64 KiB) queue up and reach the file as one writev.
    super({ highWaterMark: 1 << 20 });
    for (const w of wanted) if (!this.hashes.has(w.algorithm)) this.hashes.set(w.algorithm, createHash(w.algorithm));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      done(this.overLimit());
      return;
    }
    for (const h of this.hashes.values()) h.update(chunk);
    done(null, chunk);
  }

  /** The first header whose digest the body does not have, or null when every one matches (call once, at the end). */
  mismatch(wanted: readonly ExpectedDigest[]): ExpectedDigest | null {
    if (!this.results) {
      this.results = new Map([...this.hashes].map(([alg, h]) => [alg, h.digest()]));
    }
    return wanted.find((w) => !this.results?.get(w.algorithm)?.equals(w.digest)) ?? null;
  }
}
