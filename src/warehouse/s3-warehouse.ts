import { Limiter } from "../core/limiter.js";
import type { S3Sink } from "../sinks/s3-sink.js";
import type { Placement } from "./warehouse-paths.js";

/**
 * The S3 warehouse as the pipeline names it. Every warehouse path recorded in
 * state and in the manifest is a full `s3://BUCKET/KEY` URI, so the same
 * reservation and collision rules as the local warehouse apply to plain
 * strings; this class turns them into keys for the sink.
 */
export class S3Warehouse {
  /** `s3://BUCKET` or `s3://BUCKET/PREFIX`. */
  readonly root: string;
  private readonly bucketRoot: string;
  /**
   * S3 requests (or uploads) in flight at once. With 256 files in flight each would otherwise hold a pending
   * SDK request and its buffers; beyond a few dozen the server is no faster, and memory grows.
   */
  readonly requests = new Limiter(32);
  /** Keys this process has just seen free, so the upload need not HEAD them again. */
  private readonly seenAbsent = new Set<string>();

  constructor(readonly sink: S3Sink) {
    const { bucket, prefix } = sink.location;
    this.bucketRoot = `s3://${bucket}/`;
    this.root = prefix ? `${this.bucketRoot}${prefix}` : `s3://${bucket}`;
  }

  /** `s3://BUCKET/PREFIX/ingest_date=YYYY-MM-DD/<dir of name>` plus the file's base and collision names. */
  placement(name: string, sha256: string, at: Date): Placement {
    const { key, collisionKey } = this.sink.placementKeys(name, sha256, at);
    const uri = this.uriOf(key);
    const slash = uri.lastIndexOf("/");
    return {
      partitionDir: uri.slice(0, slash),
      baseName: uri.slice(slash + 1),
      collisionName: collisionKey.slice(collisionKey.lastIndexOf("/") + 1),
    };
  }

  uriOf(key: string): string {
    return `${this.bucketRoot}${key}`;
  }

  /** The key of a warehouse URI this warehouse produced; anything else is a bug (or state from another warehouse). */
  keyOf(uri: string): string {
    if (!uri.startsWith(this.bucketRoot)) {
      throw new Error(`${uri} is not in ${this.root}: the state was written for another warehouse`);
    }
    return uri.slice(this.bucketRoot.length);
  }

  noteAbsent(key: string): void {
    this.seenAbsent.add(key);
  }

  /** True once for a key {@link noteAbsent} recorded: the first upload attempt may skip its HEAD. */
  takeAbsent(key: string): boolean {
    return this.seenAbsent.delete(key);
  }
}
