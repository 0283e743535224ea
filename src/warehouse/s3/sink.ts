import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from "@aws-sdk/client-s3";
import { copyHashed } from "../fetch-copy.js";
import type { PutOptions, PutSource, StoredObject } from "../warehouse.js";
import { createS3Client, type S3Location, type S3SinkOptions } from "./client.js";
import { DEFAULT_PART_SIZE_BYTES, DEFAULT_QUEUE_SIZE, MIN_PART_SIZE_BYTES } from "./config.js";
import { classifyS3Error, describeS3Error, S3IntegrityError, S3KeyOccupiedError, s3HttpStatus } from "./errors.js";
import { joinKey, keyFor, placementKeys } from "./keys.js";
import { OpenUploads } from "./open-uploads.js";
import { PROBE_DIR, probePutFeatures, type S3PutFeatures, smallPutRequests } from "./probe.js";
import { uploadFile } from "./upload.js";

export type { S3Location, S3SinkLog, S3SinkOptions } from "./client.js";
export {
  describeS3Error,
  isRetriableS3Error,
  S3IntegrityError,
  S3KeyOccupiedError,
  S3PermanentError,
} from "./errors.js";
export { type S3PutFeatures, smallPutRequests } from "./probe.js";
export { type S3RetryOptions, withS3Retries } from "./retry.js";

/** An object as HEAD shows it; `sha256` is the `x-amz-meta-sha256` metadata, null when absent. */
export interface StoredS3Object {
  key: string;
  size: number;
  sha256: string | null;
}

/** Per-call options of {@link S3Sink.put}. */
export interface S3PutOptions extends PutOptions {
  /**
   * The caller has just seen the key free (its own HEAD): skip the HEAD before
   * uploading. Only for a first attempt; a retry must look again.
   */
  knownAbsent?: boolean;
}

/** A file to upload: by path, or an open descriptor (read with pread from offset 0, left open). */
export type S3Source = PutSource;

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The object operations of the S3 warehouse, by key: streams files into `s3://BUCKET/PREFIX/...` with their
 * SHA-256 in object metadata, multipart above one part, and checks each object (a HEAD afterwards, unless the
 * server verified the signed SHA-256 of the body itself). ETags
 * are never used for integrity: multipart ETags are not MD5s of the content. Every method is safe to repeat,
 * so callers wrap them in withS3Retries.
 */
export class S3Sink {
  readonly location: S3Location;
  readonly partSizeBytes: number;
  readonly queueSize: number;
  private readonly partAttempts: number;
  private readonly client: S3Client;
  private readonly endpointLabel: string;
  private readonly uploads: OpenUploads;
  private readonly log: S3SinkOptions["log"];
  private readonly allowed: Partial<S3PutFeatures>;
  private features: Promise<S3PutFeatures> | undefined;

  constructor(opts: S3SinkOptions) {
    this.location = { bucket: opts.location.bucket, prefix: joinKey(opts.location.prefix) };
    this.partSizeBytes = opts.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES;
    this.queueSize = opts.queueSize ?? DEFAULT_QUEUE_SIZE;
    this.partAttempts = opts.partAttempts ?? 4;
    if (this.partSizeBytes < MIN_PART_SIZE_BYTES) throw new RangeError("S3 part size must be at least 5 MiB");
    if (!(this.queueSize >= 1)) throw new RangeError("S3 queue size must be at least 1");
    if (!(this.partAttempts >= 1)) throw new RangeError("S3 part attempts must be at least 1");
    ({ client: this.client, endpointLabel: this.endpointLabel } = createS3Client(opts));
    this.log = opts.log;
    this.allowed = opts.putFeatures ?? {};
    this.uploads = new OpenUploads(this.client, this.location, this.partSizeBytes, this.endpointLabel, opts.log);
  }

  /** `PREFIX/<relPath>`: `keyFor("ingest_date=2026-11-23/a/b.csv")` with prefix `raw` → `raw/ingest_date=2026-11-23/a/b.csv`. */
  keyFor(relPath: string): string {
    return keyFor(this.location, relPath);
  }

  /** The key of `name` ingested at `at`, and its content-tagged alternative (see keys.ts). */
  placementKeys(name: string, sha256: string, at: Date): { key: string; collisionKey: string } {
    return placementKeys(this.location, name, sha256, at);
  }

  private classify(err: unknown, op: string, key?: string): unknown {
    const where = { op, bucket: this.location.bucket, endpoint: this.endpointLabel };
    return classifyS3Error(err, key === undefined ? where : { ...where, key });
  }

  /**
   * Confirms the bucket exists and the credentials may use it; throws S3PermanentError saying which is wrong.
   * Read-only (`sluice verify`, health checks): the put probe is {@link putFeatures}.
   */
  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.location.bucket }));
    } catch (err) {
      throw this.classify(err, "HeadBucket");
    }
  }

  /** The object at `key`, or null if there is none. */
  async head(key: string, opts: { signal?: AbortSignal } = {}): Promise<StoredS3Object | null> {
    try {
      const out = await this.client.send(
        new HeadObjectCommand({ Bucket: this.location.bucket, Key: key }),
        opts.signal ? { abortSignal: opts.signal } : {},
      );
      return { key, size: out.ContentLength ?? 0, sha256: out.Metadata?.sha256 ?? null };
    } catch (err) {
      if (s3HttpStatus(err) === 404) return null;
      throw this.classify(err, "HeadObject", key);
    }
  }

  /**
   * Downloads the object at `key` into the local file `dest`, hashing the bytes received (never trusting the
   * metadata): null when there is no such object. Safe to repeat (`dest` is written anew).
   */
  async fetch(key: string, dest: string, opts: { signal?: AbortSignal } = {}): Promise<StoredObject | null> {
    let body: NodeJS.ReadableStream;
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.location.bucket, Key: key }),
        opts.signal ? { abortSignal: opts.signal } : {},
      );
      body = out.Body as NodeJS.ReadableStream;
    } catch (err) {
      if (s3HttpStatus(err) === 404 || (err as { name?: string }).name === "NoSuchKey") return null;
      throw this.classify(err, "GetObject", key);
    }
    try {
      return await copyHashed(body, dest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).syscall) throw err;
      throw this.classify(err, "GetObject", key);
    }
  }

  /** Deletes the object at `key`; an absent key is no error (S3 answers 204 either way). */
  async remove(key: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      await this.client.send(
        new DeleteObjectCommand({ Bucket: this.location.bucket, Key: key }),
        opts.signal ? { abortSignal: opts.signal } : {},
      );
    } catch (err) {
      if (s3HttpStatus(err) === 404) return;
      throw this.classify(err, "DeleteObject", key);
    }
  }

  /** Every object under the prefix, page by page (ListObjectsV2): for `sluice verify`'s orphan check. */
  async *listObjects(): AsyncGenerator<{ key: string; size: number }> {
    let token: string | undefined;
    const prefix = this.location.prefix ? `${this.location.prefix}/` : undefined;
    // The put probe's objects live for milliseconds; one a failed delete left is not a stored file.
    const probeDir = `${joinKey(this.location.prefix, PROBE_DIR)}/`;
    do {
      let out: ListObjectsV2CommandOutput;
      try {
        out = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: prefix, ContinuationToken: token }),
        );
      } catch (err) {
        throw this.classify(err, "ListObjectsV2");
      }
      for (const o of out.Contents ?? []) {
        if (o.Key && !o.Key.startsWith(probeDir)) yield { key: o.Key, size: o.Size ?? 0 };
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  /**
   * What the endpoint enforces on a single PUT (see probe.ts), found out once per sink by a probe that writes
   * (and deletes) objects under the prefix before the first put (not at start: through a slow endpoint its
   * requests would hold up the node's start and its lease heartbeat), logged once (`s3_put_features`), lowered by
   * the `putFeatures` option. A probe cut short (endpoint down, throttled) decides nothing:
   * the error is thrown (retriable) and the next call probes again.
   */
  putFeatures(): Promise<S3PutFeatures> {
    this.features ??= probePutFeatures(this.client, this.location.bucket, this.location.prefix, (key, err) =>
      this.log?.warn({ event: "s3_probe_leftover", key, error: describeS3Error(err) }),
    ).then(
      (found) => {
        const f = {
          conditionalPut: found.conditionalPut && this.allowed.conditionalPut !== false,
          payloadHashVerified: found.payloadHashVerified && this.allowed.payloadHashVerified !== false,
          checksumVerified: found.checksumVerified && this.allowed.checksumVerified !== false,
        };
        // The verdict, once per sink (the promise is kept): how every small object will be put from now on.
        this.log?.info?.({
          event: "s3_put_features",
          conditional_put: f.conditionalPut,
          payload_hash_verified: f.payloadHashVerified,
          checksum_verified: f.checksumVerified,
          requests_per_small_put: smallPutRequests(f),
        });
        return f;
      },
      (err: unknown) => {
        this.features = undefined;
        throw this.classify(err, "PutObject (probe)", joinKey(this.location.prefix, PROBE_DIR));
      },
    );
    return this.features;
  }

  /**
   * Stores the file at `key` with metadata `sha256=<hex>`, streamed from disk (one PUT up to a part's size,
   * multipart above), never over other content: if the key already holds these bytes (same SHA-256 and size)
   * the answer is `"exists"`; if it holds other content, S3KeyOccupiedError (unless `opts.replace`). How many
   * requests that takes depends on what the endpoint enforces ({@link putFeatures}, docs/s3.md): a conditional
   * PUT (`If-None-Match: *`) replaces the HEAD before it, and a server that verifies the signed SHA-256 of the
   * body replaces the HEAD after it; otherwise the object is HEADed before (is the key free?) and after (size
   * and SHA-256 as recorded, else S3IntegrityError). The source is re-read from its start on every call, so a
   * retry after any failure is safe. `signal` abandons the upload in flight; `onProgress` hears the bytes
   * acknowledged so far (per part, for multipart).
   */
  async put(
    key: string,
    source: S3Source,
    meta: { sha256: string; size: number },
    opts: S3PutOptions = {},
  ): Promise<"uploaded" | "exists"> {
    if (!SHA256_HEX.test(meta.sha256)) throw new TypeError(`sha256 must be 64 lower-case hex digits: ${meta.sha256}`);
    const features = await this.putFeatures();
    const single = meta.size <= this.partSizeBytes;
    // Multipart uploads keep both HEADs: one request more per big object is nothing beside its parts.
    const ifAbsent = single && features.conditionalPut && !opts.replace;
    if (!ifAbsent && !opts.knownAbsent && this.alreadyThere(key, await this.head(key, opts), meta, opts.replace)) {
      return "exists";
    }
    for (let refused = 0; ; refused++) {
      const sent = await this.upload(key, source, meta, opts, {
        ifAbsent,
        checksum: single && features.checksumVerified,
      });
      if (sent === "uploaded") break;
      // 412: the key is taken. Judged as the HEAD-first path would; gone again by now (deleted meanwhile): retry.
      const there = await this.head(key, opts);
      if (there && this.alreadyThere(key, there, meta, false)) return "exists";
      if (refused >= 2)
        throw new Error(`s3://${this.location.bucket}/${key}: refused as taken, but no object is there`);
    }
    if (!(single && (features.payloadHashVerified || features.checksumVerified))) {
      const stored = await this.head(key, opts);
      if (!stored || stored.size !== meta.size || stored.sha256 !== meta.sha256) {
        const got = stored ? `${stored.size} bytes sha256 ${stored.sha256 ?? "not recorded"}` : "no object";
        throw new S3IntegrityError(
          `s3://${this.location.bucket}/${key} after upload: expected ${meta.size} bytes sha256 ${meta.sha256}, found ${got}`,
          "object",
        );
      }
    }
    this.uploads.stored(key, meta.size);
    await this.abortOrphans();
    return "uploaded";
  }

  /** True when `existing` holds these bytes; throws S3KeyOccupiedError when it holds others (unless `replace`). */
  private alreadyThere(
    key: string,
    existing: StoredS3Object | null,
    meta: { sha256: string; size: number },
    replace: boolean | undefined,
  ): boolean {
    if (!existing) return false;
    if (existing.sha256 === meta.sha256 && existing.size === meta.size) {
      this.uploads.stored(key, meta.size);
      return true;
    }
    if (replace) return false;
    throw new S3KeyOccupiedError(
      `s3://${this.location.bucket}/${key} already holds other content (${existing.size} bytes, sha256 ${existing.sha256 ?? "not recorded"})`,
      key,
      existing,
    );
  }

  /** Sends the file; "taken" when a conditional PUT was refused because the key exists (412). */
  private async upload(
    key: string,
    source: S3Source,
    meta: { sha256: string; size: number },
    { signal, onProgress }: S3PutOptions,
    how: { ifAbsent: boolean; checksum: boolean },
  ): Promise<"uploaded" | "taken"> {
    signal?.throwIfAborted();
    try {
      await uploadFile({
        client: this.client,
        bucket: this.location.bucket,
        key,
        source,
        sha256: meta.sha256,
        size: meta.size,
        partSizeBytes: this.partSizeBytes,
        queueSize: this.queueSize,
        partAttempts: this.partAttempts,
        ...(signal ? { signal } : {}),
        ...(onProgress ? { onProgress } : {}),
        onOrphan: (uploadId) => this.uploads.orphaned(uploadId, key),
        ...how,
      });
      return "uploaded";
    } catch (err) {
      if (how.ifAbsent && s3HttpStatus(err) === 412) return "taken";
      this.uploads.failed(key, meta.size);
      // A source that changed or cannot be read is the caller's to judge; the rest is classified for retrying.
      if (err instanceof S3IntegrityError || (err as NodeJS.ErrnoException).syscall) throw err;
      throw this.classify(err, "PutObject", key);
    }
  }

  /** Aborts what failed uploads left behind (see OpenUploads.abortOrphans). Best effort. */
  abortOrphans(): Promise<void> {
    return this.uploads.abortOrphans();
  }

  /** Aborts the multipart uploads under the prefix that `keep` does not claim (see OpenUploads.abortStale). */
  abortStaleUploads(
    keep?: (upload: { key: string; initiated: Date | undefined }) => Promise<boolean>,
  ): Promise<string[]> {
    return this.uploads.abortStale(keep);
  }

  /** Releases the HTTP connections. */
  close(): void {
    this.client.destroy();
  }
}
