// Types of s3-servers.mjs (plain JavaScript so that the benchmark can run it without a build).
import type { S3Client } from "@aws-sdk/client-s3";

/** A real S3-protocol server on a loopback port, owned by one test file. */
export interface S3TestServer {
  readonly kind: "s3rver" | "radosgw";
  /** `http://127.0.0.1:PORT`; the port stays the same across kill()/restart(). */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  /** Whether ListMultipartUploads / AbortMultipartUpload work (s3rver implements neither). */
  readonly listsMultipartUploads: boolean;
  /** Creates a bucket (path-style, so any name the server accepts). */
  createBucket(name: string): Promise<void>;
  /** A client with the server's credentials, for looking behind the sink's back. Closed by stop(). */
  client(): S3Client;
  /** Hard outage: the S3 process is SIGKILLed; connections reset, then are refused. Data is kept. */
  kill(): Promise<void>;
  /** Brings the S3 process back on the same port with the same data; resolves when it answers. */
  restart(): Promise<void>;
  /** Freezes (SIGSTOP) the S3 process: connections are accepted but nothing answers. */
  pause(): void;
  resume(): void;
  /** Kills everything and removes the server's data. */
  stop(): Promise<void>;
}

/** Options of {@link startRadosGw}; the defaults are what the tests use. */
export interface RadosGwOptions {
  /**
   * Capacity of the memstore OSD (RAM, taken as objects are written; deleted objects' data is only freed by
   * RGW's garbage collection, hours later). Default 4 GiB. The OSD refuses writes past about 95 % of it.
   */
  readonly memstoreBytes?: number;
}

/**
 * s3rver (a small S3 emulator on the filesystem) in a child process on a free
 * loopback port. Fast (~0.3 s) but partial: no ListMultipartUploads or
 * AbortMultipartUpload, and it verifies neither payload hashes nor checksums.
 */
export function startS3rver(): Promise<S3TestServer>;

/**
 * Makes sure the Ceph packages are there, installing them with apt-get as
 * root if they are not (about a minute). Resolves with why RADOS Gateway
 * tests must be skipped, or undefined when they can run. Under CI=true it
 * never resolves with a reason: it throws, so a CI run cannot pass by
 * skipping the production S3 server.
 */
export function radosGwUnavailable(options?: {
  /** false: only check that the Ceph binaries are there, never run apt-get. Default true. */
  readonly install?: boolean;
}): Promise<string | undefined>;

/**
 * A throw-away single-node Ceph cluster (1 mon, 1 memstore OSD) and one RADOS
 * Gateway on a free loopback port, all state under a temp dir and in RAM.
 * About 1.5–2 s to start. Call {@link radosGwUnavailable} first.
 */
export function startRadosGw(options?: RadosGwOptions): Promise<S3TestServer>;
