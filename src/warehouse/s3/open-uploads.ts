import {
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { S3Location, S3SinkLog } from "./client.js";
import { classifyS3Error, s3ErrorCode, s3HttpStatus } from "./errors.js";

/**
 * Multipart uploads that nobody will complete, and their cleanup: the uploads a failed put could not abort
 * (the endpoint was down), the keys a failed multipart upload may have left an upload on that this process never
 * learned the id of, and (at start, and periodically with several nodes) every stale upload under the prefix.
 */
export class OpenUploads {
  /** Multipart uploads whose abort may have failed (endpoint down): aborted after the next successful put. */
  private readonly orphans = new Map<string, string>();
  /**
   * Keys whose multipart upload failed: an upload may exist that this process never learned the id of (the answer
   * to CreateMultipartUpload was lost). Once the key is stored, any upload still open on it is garbage.
   */
  private readonly sweepKeys = new Set<string>();
  /** Keys whose multipart upload failed and that are not stored yet: a retry may have an upload in flight. */
  private readonly failedKeys = new Set<string>();

  constructor(
    private readonly client: S3Client,
    private readonly location: S3Location,
    private readonly partSizeBytes: number,
    private readonly endpointLabel: string,
    private readonly log: S3SinkLog | undefined,
  ) {}

  /** An upload's own abort failed: it is aborted later. */
  orphaned(uploadId: string, key: string): void {
    this.orphans.set(uploadId, key);
  }

  /** A put of `size` bytes to `key` failed. */
  failed(key: string, size: number): void {
    if (size > this.partSizeBytes) this.failedKeys.add(key);
  }

  /**
   * The key holds its content now: uploads left open on it may be swept. Not only after a failure we saw: the
   * SDK retries a CreateMultipartUpload whose answer was lost on its own, which leaves an upload nobody knows the
   * id of, so every multipart key is swept once (one ListMultipartUploads per large file).
   */
  stored(key: string, size: number): void {
    if (this.failedKeys.delete(key) || size > this.partSizeBytes) this.sweepKeys.add(key);
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
  async abortStale(
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
        throw classifyS3Error(err, { op: "ListMultipartUploads", bucket, endpoint: this.endpointLabel });
      }
      for (const u of page.Uploads ?? []) {
        if (!u.Key || !u.UploadId) continue;
        if (await keep({ key: u.Key, initiated: u.Initiated })) continue;
        try {
          await this.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
          aborted.push(u.Key);
        } catch (err) {
          if (s3HttpStatus(err) === 404) continue; // aborted or completed meanwhile
          throw classifyS3Error(err, {
            op: "AbortMultipartUpload",
            bucket,
            key: u.Key,
            endpoint: this.endpointLabel,
          });
        }
      }
      if (!page.IsTruncated || (!page.NextKeyMarker && !page.NextUploadIdMarker)) return aborted;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }
}
