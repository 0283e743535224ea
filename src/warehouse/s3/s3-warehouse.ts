import { Limiter } from "../../core/limiter.js";
import type { PutOptions, PutSource, StoredObject, Warehouse, WarehouseFailures, WarehouseView } from "../warehouse.js";
import type { Placement } from "../warehouse-paths.js";
import { describeS3Error, isRetriableS3Error, S3PermanentError } from "./errors.js";
import { S3WarehouseView } from "./s3-view.js";
import type { S3Sink } from "./sink.js";

/**
 * The S3 warehouse as the pipeline sees it (the {@link Warehouse} seam). Every
 * warehouse path recorded in state and in the manifest is a full
 * `s3://BUCKET/KEY` URI, so the same reservation and collision rules as the
 * local warehouse apply to plain strings; this class turns them into keys for
 * the sink, which does the requests.
 */
export class S3Warehouse implements Warehouse {
  /** `s3://BUCKET` or `s3://BUCKET/PREFIX`. */
  readonly root: string;
  private readonly bucketRoot: string;
  /**
   * S3 requests (or uploads) in flight at once. With 256 files in flight each would otherwise hold a pending
   * SDK request and its buffers; beyond a few dozen the server is no faster, and memory grows.
   */
  readonly requests = new Limiter(32);
  /** S3's own rules: throttling, 5xx and cut connections are blips; a refusal is an S3PermanentError. */
  readonly failures: WarehouseFailures = {
    transient: isRetriableS3Error,
    refusal: (err) =>
      err instanceof S3PermanentError
        ? { event: "s3_permanent_error", cause: `${err.code} ${err.httpStatus ?? ""}`, message: err.message }
        : null,
    describe: describeS3Error,
  };
  /** Content lands by upload only: there is no directory to rename into. */
  readonly directory = null;
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

  /** Uploads read the source where it is (by descriptor): nothing is copied into the work area first. */
  needsCopy(): boolean {
    return false;
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

  /** Uploads; the first call after {@link heldByOther} found the key free skips its HEAD (a retry looks again). */
  put(
    uri: string,
    source: PutSource,
    meta: { sha256: string; size: number },
    opts: PutOptions = {},
  ): Promise<"uploaded" | "exists"> {
    const key = this.keyOf(uri);
    return this.sink.put(key, source, meta, { ...opts, knownAbsent: this.seenAbsent.delete(key) });
  }

  async head(uri: string, opts: { signal?: AbortSignal } = {}): Promise<StoredObject | null> {
    const o = await this.sink.head(this.keyOf(uri), opts);
    return o ? { size: o.size, sha256: o.sha256 } : null;
  }

  async heldByOther(uri: string, sha256: string, opts: { signal?: AbortSignal } = {}): Promise<boolean> {
    const key = this.keyOf(uri);
    const there = await this.sink.head(key, opts);
    if (!there) this.seenAbsent.add(key);
    return there !== null && there.sha256 !== sha256;
  }

  fetch(uri: string, dest: string, opts: { signal?: AbortSignal } = {}): Promise<StoredObject | null> {
    return this.sink.fetch(this.keyOf(uri), dest, opts);
  }

  remove(uri: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    return this.sink.remove(this.keyOf(uri), opts);
  }

  async *list(): AsyncGenerator<string> {
    for await (const o of this.sink.listObjects()) yield this.uriOf(o.key);
  }

  view(workArea: string): WarehouseView {
    return new S3WarehouseView(this, workArea);
  }

  abortStaleUploads(keep: (uri: string) => Promise<boolean> = async () => false): Promise<string[]> {
    return this.sink.abortStaleUploads(({ key }) => keep(this.uriOf(key)));
  }

  check(): Promise<void> {
    return this.sink.check();
  }

  async close(): Promise<void> {
    // Uploads cut off by faults during the run: aborted now rather than left to the next start.
    await this.sink.abortOrphans().catch(() => undefined);
    this.sink.close();
  }
}
