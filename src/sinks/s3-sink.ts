import { readFileSync } from "node:fs";
import { posix } from "node:path";
import { rootCertificates } from "node:tls";
import {
  AbortMultipartUploadCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  S3Client,
} from "@aws-sdk/client-s3";
import { collisionName, utcDate } from "../warehouse/warehouse-paths.js";
import { DEFAULT_PART_SIZE_BYTES, DEFAULT_QUEUE_SIZE, MIN_PART_SIZE_BYTES } from "./s3-config.js";
import { S3IntegrityError, S3KeyOccupiedError, s3ErrorCode, s3HttpStatus, toS3PermanentError } from "./s3-errors.js";
import { uploadFile } from "./s3-upload.js";

export { type S3RetryOptions, withS3Retries } from "./retry.js";
export {
  describeS3Error,
  isRetriableS3Error,
  S3IntegrityError,
  S3KeyOccupiedError,
  S3PermanentError,
} from "./s3-errors.js";

/** Where objects go: `s3://BUCKET/PREFIX` (prefix without surrounding slashes, may be ""). */
export interface S3Location {
  bucket: string;
  prefix: string;
}

/** Receives the sink's rare warnings; a pino logger fits. */
export interface S3SinkLog {
  warn(fields: Record<string, unknown>): void;
}

/** Options for {@link S3Sink}; `resolveS3Config` (s3-config.ts) builds them from flags, environment and `.env`. */
export interface S3SinkOptions {
  location: S3Location;
  /** `http(s)://host:port` of an S3-compatible server; absent for AWS itself. */
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** Bytes per multipart part (and the single-PUT threshold). Default 8 MiB, at least 5 MiB. */
  partSizeBytes?: number;
  /**
   * Parts uploaded at once. Buffers in use stay under partSizeBytes × queueSize per
   * multipart upload, whatever the file's size. Default 4.
   */
  queueSize?: number;
  /** Static keys; without them the SDK's default chain (environment, profiles, roles) is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts the SDK makes per request before the error reaches {@link withS3Retries}. Default 2. */
  maxAttempts?: number;
  /** Connect timeout. Default 5 s. */
  connectTimeoutMs?: number;
  /** A request whose socket stays silent this long fails (retriably). Default 60 s. */
  socketTimeoutMs?: number;
  /** Extra CA certificates (PEM file) trusted for an https endpoint, as AWS_CA_BUNDLE means elsewhere. */
  caBundlePath?: string;
  log?: S3SinkLog;
}

/** An object as HEAD shows it; `sha256` is the `x-amz-meta-sha256` metadata, null when absent. */
export interface StoredObject {
  key: string;
  size: number;
  sha256: string | null;
}

/** Per-call options of {@link S3Sink.put}. */
export interface S3PutOptions {
  signal?: AbortSignal;
  onProgress?: (bytesSent: number) => void;
  /**
   * The key may hold other content, which is replaced: for objects derived
   * from the file (its Parquet), which a replay rewrites. Default false.
   */
  replace?: boolean;
  /**
   * The caller has just seen the key free (its own HEAD): skip the HEAD before
   * uploading. Only for a first attempt; a retry must look again.
   */
  knownAbsent?: boolean;
}

/** A file to upload: by path, or an open descriptor (read with pread from offset 0, left open). */
export type S3Source = { path: string } | { fd: number };

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Joins key segments, dropping empty ones; `.`/`..` segments are a caller bug, not a key. */
function joinKey(...parts: string[]): string {
  const segments = parts.flatMap((p) => p.split("/")).filter((s) => s !== "");
  if (segments.some((s) => s === "." || s === "..")) {
    throw new TypeError(`S3 key "${parts.join("/")}" has a "." or ".." segment`);
  }
  return segments.join("/");
}

/**
 * The S3 warehouse: streams files into `s3://BUCKET/PREFIX/...` with their
 * SHA-256 in object metadata, multipart above one part, and checks each
 * object with a HEAD afterwards. ETags are never used for integrity:
 * multipart ETags are not MD5s of the content. Every method is safe to repeat,
 * so callers wrap them in {@link withS3Retries}.
 */
export class S3Sink {
  readonly location: S3Location;
  readonly partSizeBytes: number;
  readonly queueSize: number;
  private readonly client: S3Client;
  private readonly endpointLabel: string;
  private readonly log: S3SinkLog | undefined;
  /** Multipart uploads whose abort may have failed (endpoint down): aborted after the next successful put. */
  private readonly orphans = new Map<string, string>();
  /**
   * Keys whose multipart upload failed: an upload may exist that this process never learned the id of (the answer
   * to CreateMultipartUpload was lost). Once the key is stored, any upload still open on it is garbage.
   */
  private readonly sweepKeys = new Set<string>();
  /** Keys whose multipart upload failed and that are not stored yet: a retry may have an upload in flight. */
  private readonly failedKeys = new Set<string>();

  constructor(opts: S3SinkOptions) {
    this.location = { bucket: opts.location.bucket, prefix: joinKey(opts.location.prefix) };
    this.partSizeBytes = opts.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES;
    this.queueSize = opts.queueSize ?? DEFAULT_QUEUE_SIZE;
    if (this.partSizeBytes < MIN_PART_SIZE_BYTES) throw new RangeError("S3 part size must be at least 5 MiB");
    if (!(this.queueSize >= 1)) throw new RangeError("S3 queue size must be at least 1");
    this.endpointLabel = opts.endpoint ?? `AWS ${opts.region}`;
    this.log = opts.log;
    let ca: string[] | undefined;
    if (opts.caBundlePath) {
      try {
        ca = [...rootCertificates, readFileSync(opts.caBundlePath, "utf8")];
      } catch (err) {
        throw new Error(`cannot read the CA bundle ${opts.caBundlePath} (AWS_CA_BUNDLE): ${(err as Error).message}`);
      }
    }
    this.client = new S3Client({
      region: opts.region,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      forcePathStyle: opts.forcePathStyle,
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
      // The long wait belongs to withS3Retries (unbounded until aborted); the SDK only smooths over blips.
      maxAttempts: opts.maxAttempts ?? 2,
      // Since 3.729 the SDK adds CRC32 checksums, sent as aws-chunked trailers that s3rver stores as content and
      // older RGW rejects. Integrity here is the SHA-256 in metadata plus SigV4's signed payload hash per part.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      requestHandler: {
        connectionTimeout: opts.connectTimeoutMs ?? 5_000,
        socketTimeout: opts.socketTimeoutMs ?? 60_000,
        ...(ca ? { httpsAgent: { keepAlive: true, maxSockets: 50, ca } } : {}),
      },
    });
  }

  /** `PREFIX/<relPath>`: `keyFor("ingest_date=2026-11-23/a/b.csv")` with prefix `raw` → `raw/ingest_date=2026-11-23/a/b.csv`. */
  keyFor(relPath: string): string {
    const key = joinKey(this.location.prefix, relPath);
    if (key === this.location.prefix) throw new TypeError(`S3 key for "${relPath}" is empty`);
    return key;
  }

  /**
   * The key of `name` (a path relative to staging) ingested at `at`, and the
   * key it takes when that one holds other content — the local warehouse's
   * rule: `report.csv` → `report.<first 12 hex of sha256>.csv`.
   */
  placementKeys(name: string, sha256: string, at: Date): { key: string; collisionKey: string } {
    const dir = posix.dirname(name) === "." ? "" : posix.dirname(name);
    const base = posix.basename(name);
    const partition = `ingest_date=${utcDate(at)}`;
    return {
      key: this.keyFor(`${partition}/${dir}/${base}`),
      collisionKey: this.keyFor(`${partition}/${dir}/${collisionName(base, sha256)}`),
    };
  }

  private classify(err: unknown, op: string, key?: string): unknown {
    return (
      toS3PermanentError(err, {
        op,
        bucket: this.location.bucket,
        ...(key === undefined ? {} : { key }),
        endpoint: this.endpointLabel,
      }) ?? err
    );
  }

  /** Confirms the bucket exists and the credentials may use it; throws {@link S3PermanentError} saying which is wrong. */
  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.location.bucket }));
    } catch (err) {
      throw this.classify(err, "HeadBucket");
    }
  }

  /** The object at `key`, or null if there is none. */
  async head(key: string, opts: { signal?: AbortSignal } = {}): Promise<StoredObject | null> {
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

  /** Every object under the prefix, page by page (ListObjectsV2): for `sluice verify`'s orphan check. */
  async *listObjects(): AsyncGenerator<{ key: string; size: number }> {
    let token: string | undefined;
    const prefix = this.location.prefix ? `${this.location.prefix}/` : undefined;
    do {
      let out: ListObjectsV2CommandOutput;
      try {
        out = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: prefix, ContinuationToken: token }),
        );
      } catch (err) {
        throw this.classify(err, "ListObjectsV2");
      }
      for (const o of out.Contents ?? []) if (o.Key) yield { key: o.Key, size: o.Size ?? 0 };
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  /**
   * Stores the file at `key` with metadata `sha256=<hex>`, streamed from disk
   * (one PUT up to a part's size, multipart above), then HEADs it and throws
   * {@link S3IntegrityError} unless size and SHA-256 match. If the key already
   * holds these bytes (same SHA-256 and size) nothing is sent: `"exists"`. If
   * it holds other content, {@link S3KeyOccupiedError}: objects are not
   * written over (unless `opts.replace`). The source is re-read from its start on every call, so a
   * retry after any failure is safe. `signal` abandons the upload in flight;
   * `onProgress` hears the bytes acknowledged so far (per part, for multipart).
   */
  async put(
    key: string,
    source: S3Source,
    meta: { sha256: string; size: number },
    opts: S3PutOptions = {},
  ): Promise<"uploaded" | "exists"> {
    if (!SHA256_HEX.test(meta.sha256)) throw new TypeError(`sha256 must be 64 lower-case hex digits: ${meta.sha256}`);
    const existing = opts.knownAbsent ? null : await this.head(key, opts);
    if (existing) {
      if (existing.sha256 === meta.sha256 && existing.size === meta.size) {
        this.stored(key, meta.size);
        return "exists";
      }
      if (!opts.replace)
        throw new S3KeyOccupiedError(
          `s3://${this.location.bucket}/${key} already holds other content (${existing.size} bytes, sha256 ${existing.sha256 ?? "not recorded"})`,
          key,
          existing,
        );
    }
    await this.upload(key, source, meta, opts);
    const stored = await this.head(key, opts);
    if (!stored || stored.size !== meta.size || stored.sha256 !== meta.sha256) {
      const got = stored ? `${stored.size} bytes sha256 ${stored.sha256 ?? "not recorded"}` : "no object";
      throw new S3IntegrityError(
        `s3://${this.location.bucket}/${key} after upload: expected ${meta.size} bytes sha256 ${meta.sha256}, found ${got}`,
        "object",
      );
    }
    this.stored(key, meta.size);
    await this.abortOrphans();
    return "uploaded";
  }

  /**
   * The key holds its content now: uploads left open on it may be swept. Not only after a failure we saw: the
   * SDK retries a CreateMultipartUpload whose answer was lost on its own, which leaves an upload nobody knows the
   * id of, so every multipart key is swept once (one ListMultipartUploads per large file).
   */
  private stored(key: string, size: number): void {
    if (this.failedKeys.delete(key) || size > this.partSizeBytes) this.sweepKeys.add(key);
  }

  private async upload(
    key: string,
    source: S3Source,
    meta: { sha256: string; size: number },
    { signal, onProgress }: S3PutOptions,
  ): Promise<void> {
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
        ...(signal ? { signal } : {}),
        ...(onProgress ? { onProgress } : {}),
        onOrphan: (uploadId) => this.orphans.set(uploadId, key),
      });
    } catch (err) {
      if (meta.size > this.partSizeBytes) this.failedKeys.add(key);
      // A source that changed or cannot be read is the caller's to judge; the rest is classified for retrying.
      if (err instanceof S3IntegrityError || (err as NodeJS.ErrnoException).syscall) throw err;
      throw this.classify(err, "PutObject", key);
    }
  }

  /**
   * Aborts what failed uploads left behind: uploads whose abort failed, and any upload still open on a key whose
   * multipart upload failed once (listed, where the server can). Best effort, after a put proved the endpoint is
   * back, and at close; what fails stays listed for next time (and the next start aborts every stale upload).
   */
  async abortOrphans(): Promise<void> {
    for (const [uploadId, key] of this.orphans) {
      if (!(await this.abortUpload(key, uploadId))) return;
      this.orphans.delete(uploadId);
    }
    for (const key of this.sweepKeys) {
      let uploads: { Key?: string; UploadId?: string }[];
      try {
        const page = await this.client.send(
          new ListMultipartUploadsCommand({ Bucket: this.location.bucket, Prefix: key }),
        );
        uploads = page.Uploads ?? [];
      } catch (err) {
        if (s3ErrorCode(err) === "NotImplemented") this.sweepKeys.clear();
        return;
      }
      for (const u of uploads) {
        if (u.Key === key && u.UploadId && !(await this.abortUpload(key, u.UploadId))) return;
      }
      this.sweepKeys.delete(key);
    }
  }

  /** True when the upload is gone (aborted now, or already), false when the server could not be asked. */
  private async abortUpload(key: string, uploadId: string): Promise<boolean> {
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.location.bucket, Key: key, UploadId: uploadId }),
      );
      return true;
    } catch (err) {
      const status = s3HttpStatus(err);
      // 404: already gone (the upload's own abort got through). Other 4xx: this server will not abort it.
      return status !== undefined && status >= 400 && status < 500;
    }
  }

  /**
   * Aborts the multipart uploads under the prefix that `keep` does not claim
   * (all of them without it): the leftovers of a crash mid-upload, which
   * otherwise hold storage forever. Returns the keys aborted. With several
   * writers on one prefix, `keep` must claim every upload a live writer may
   * still be sending. A server that cannot list uploads (s3rver:
   * NotImplemented) gets a warning and nothing is aborted.
   */
  async abortStaleUploads(
    keep: (upload: { key: string; initiated: Date | undefined }) => Promise<boolean> = async () => false,
  ): Promise<string[]> {
    const { bucket, prefix } = this.location;
    const aborted: string[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      let page: ListMultipartUploadsCommandOutput;
      try {
        page = await this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: bucket,
            // "raw/" so that a prefix "raw" leaves "rawdata/..." alone.
            ...(prefix ? { Prefix: `${prefix}/` } : {}),
            ...(keyMarker ? { KeyMarker: keyMarker } : {}),
            ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}),
          }),
        );
      } catch (err) {
        if (s3ErrorCode(err) === "NotImplemented") {
          this.log?.warn({
            event: "s3_list_uploads_unsupported",
            endpoint: this.endpointLabel,
            bucket,
            message: "this S3 server cannot list multipart uploads; stale uploads are not cleaned up",
          });
          return aborted;
        }
        throw this.classify(err, "ListMultipartUploads");
      }
      for (const u of page.Uploads ?? []) {
        if (!u.Key || !u.UploadId) continue;
        if (await keep({ key: u.Key, initiated: u.Initiated })) continue;
        try {
          await this.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
          aborted.push(u.Key);
        } catch (err) {
          if (s3HttpStatus(err) === 404) continue; // aborted or completed meanwhile
          throw this.classify(err, "AbortMultipartUpload", u.Key);
        }
      }
      if (!page.IsTruncated || (!page.NextKeyMarker && !page.NextUploadIdMarker)) return aborted;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  /** Releases the HTTP connections. */
  close(): void {
    this.client.destroy();
  }
}
