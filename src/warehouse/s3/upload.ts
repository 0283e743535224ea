import { createHash, type Hash } from "node:crypto";
import { closeSync, constants, openSync, read } from "node:fs";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { retry } from "../../core/retry.js";
import { isRetriableS3Error, S3IntegrityError } from "./errors.js";
import { signPayloadHash } from "./probe.js";

/** What to upload and how. */
export interface UploadJob {
  client: S3Client;
  bucket: string;
  key: string;
  /** A path (opened and closed here) or a caller's descriptor (read with pread, left open). */
  source: { path: string } | { fd: number };
  sha256: string;
  size: number;
  partSizeBytes: number;
  /** Parts in flight at once. */
  queueSize: number;
  /** Attempts per part (a retriable failure sends that part again, alone) before the upload is given up. */
  partAttempts: number;
  signal?: AbortSignal;
  onProgress?: (bytesSent: number) => void;
  /** Called with the id of a multipart upload this call could not abort, for a later attempt. */
  onOrphan: (uploadId: string) => void;
  /** A single PUT is sent with `If-None-Match: *` (refused with 412 if the key exists). */
  ifAbsent?: boolean;
  /** A single PUT carries `x-amz-checksum-sha256` (for a server seen to verify it). */
  checksum?: boolean;
}

function preadFull(fd: number, buf: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const step = () =>
      read(fd, buf, got, length - got, position + got, (err, n) => {
        if (err) return reject(err);
        got += n;
        if (n === 0 || got === length) resolve(got);
        else step();
      });
    step();
  });
}

function mismatch(job: UploadJob, got: string): S3IntegrityError {
  return new S3IntegrityError(
    `source for ${job.key} changed since it was hashed: expected ${job.size} bytes sha256 ${job.sha256}, read ${got}`,
    "source",
  );
}

/** One byte past the expected end means the file grew: its hash is not the one recorded. */
async function expectEnd(job: UploadJob, fd: number, hash: Hash): Promise<void> {
  const probe = Buffer.allocUnsafe(1);
  if ((await preadFull(fd, probe, 1, job.size)) > 0) throw mismatch(job, `more than ${job.size} bytes`);
  const hex = hash.digest("hex");
  if (hex !== job.sha256) throw mismatch(job, `${job.size} bytes sha256 ${hex}`);
}

/**
 * Uploads exactly the bytes that were hashed. Everything is read with pread
 * into buffers of one part each (so memory is parts in flight × part size,
 * whatever the file's size) and hashed on the way; if the bytes are not the
 * recorded SHA-256 the object is never completed (`S3IntegrityError`,
 * `where: "source"`). Up to one part: a single PUT. Above: a multipart
 * upload with `queueSize` parts in flight; a part that fails retriably is
 * sent again on its own ({@link sendPart}), and the upload is aborted once a
 * part fails for good, so the caller's retry starts a new one.
 */
export async function uploadFile(job: UploadJob): Promise<void> {
  const owned = "path" in job.source;
  const fd =
    "path" in job.source ? openSync(job.source.path, constants.O_RDONLY | constants.O_NOFOLLOW) : job.source.fd;
  try {
    if (job.size <= job.partSizeBytes) await putSingle(job, fd);
    else await putMultipart(job, fd);
  } finally {
    if (owned) closeSync(fd);
  }
}

const metadataOf = (job: UploadJob) => ({ sha256: job.sha256 });
const sendOpts = (job: UploadJob) => (job.signal ? { abortSignal: job.signal } : {});

async function putSingle(job: UploadJob, fd: number): Promise<void> {
  const body = Buffer.allocUnsafe(job.size);
  const n = await preadFull(fd, body, job.size, 0);
  if (n !== job.size) throw mismatch(job, `${n} bytes`);
  await expectEnd(job, fd, createHash("sha256").update(body));
  job.signal?.throwIfAborted();
  const command = new PutObjectCommand({
    Bucket: job.bucket,
    Key: job.key,
    Body: body,
    ContentLength: job.size,
    ContentType: "application/octet-stream",
    Metadata: metadataOf(job),
    ...(job.ifAbsent ? { IfNoneMatch: "*" } : {}),
    ...(job.checksum ? { ChecksumSHA256: Buffer.from(job.sha256, "hex").toString("base64") } : {}),
  });
  // The body is the whole file, just checked against job.sha256: that is its payload hash, signed as such.
  await job.client.send(signPayloadHash(command, job.sha256), sendOpts(job));
  job.onProgress?.(job.size);
}

async function putMultipart(job: UploadJob, fd: number): Promise<void> {
  const { client, bucket, key, partSizeBytes } = job;
  const created = await client.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      ContentType: "application/octet-stream",
      Metadata: metadataOf(job),
    }),
    sendOpts(job),
  );
  const uploadId = created.UploadId;
  if (!uploadId) throw new Error(`CreateMultipartUpload for ${key} returned no UploadId`);
  const hash = createHash("sha256");
  const parts: { PartNumber: number; ETag: string }[] = [];
  const free: Buffer[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let sent = 0;
  try {
    for (let offset = 0, partNumber = 1; offset < job.size; offset += partSizeBytes, partNumber++) {
      while (inFlight.size >= job.queueSize && failure === undefined) await Promise.race(inFlight);
      if (failure !== undefined) break;
      const length = Math.min(partSizeBytes, job.size - offset);
      const buf = free.pop() ?? Buffer.allocUnsafe(partSizeBytes);
      const n = await preadFull(fd, buf, length, offset);
      if (n !== length) throw mismatch(job, `${offset + n} bytes`);
      const body = buf.subarray(0, length);
      // Parts are read in order, so the whole file's hash is built as they go.
      hash.update(body);
      const number = partNumber;
      const p: Promise<void> = sendPart(job, uploadId, number, body)
        .then((etag) => {
          parts.push({ PartNumber: number, ETag: etag });
          sent += length;
          job.onProgress?.(sent);
        })
        .catch((err: unknown) => {
          failure ??= err;
        })
        .finally(() => {
          inFlight.delete(p);
          free.push(buf);
        });
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    // The bytes sent must be the bytes hashed before the object may exist: check before completing.
    await expectEnd(job, fd, hash);
    parts.sort((a, b) => a.PartNumber - b.PartNumber);
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
      sendOpts(job),
    );
  } catch (err) {
    await Promise.allSettled(inFlight);
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    } catch {
      job.onOrphan(uploadId);
    }
    throw err;
  }
}

/** First and largest backoff ceiling between attempts at one part: short, the other parts are waiting on it. */
const PART_RETRY_BASE_MS = 200;
const PART_RETRY_CAP_MS = 5_000;

/**
 * Sends one part, again and again while it fails retriably (a reset, a timeout, a 5xx), up to
 * `job.partAttempts` times with full-jitter backoff: a blip costs this part's bytes, not the whole upload's.
 * The buffer is the caller's until this settles, so every attempt sends the very bytes that were hashed. The
 * last error (or the first one that retrying cannot cure) is thrown, and the caller aborts the upload.
 */
async function sendPart(job: UploadJob, uploadId: string, partNumber: number, body: Buffer): Promise<string> {
  const send = async () => {
    const out = await job.client.send(
      new UploadPartCommand({
        Bucket: job.bucket,
        Key: job.key,
        UploadId: uploadId,
        PartNumber: partNumber,
        Body: body,
        ContentLength: body.length,
      }),
      sendOpts(job),
    );
    return out.ETag ?? "";
  };
  return retry(send, {
    signal: job.signal,
    retryable: isRetriableS3Error,
    baseMs: PART_RETRY_BASE_MS,
    capMs: PART_RETRY_CAP_MS,
    maxAttempts: job.partAttempts,
  });
}
