import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import { S3Client } from "@aws-sdk/client-s3";

/** Where objects go: `s3://BUCKET/PREFIX` (prefix without surrounding slashes, may be ""). */
export interface S3Location {
  bucket: string;
  prefix: string;
}

/** Receives the sink's rare warnings; a pino logger fits. */
export interface S3SinkLog {
  warn(fields: Record<string, unknown>): void;
  info?(fields: Record<string, unknown>): void;
}

/** Options for the S3 sink; `resolveS3Config` (config.ts) builds them from the settings the configuration picked. */
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
  /** Attempts per part of a multipart upload before the whole upload is given up (aborted). Default 4. */
  partAttempts?: number;
  /** Static keys; without them the SDK's default chain (environment, profiles, roles) is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts the SDK makes per request before the error reaches withS3Retries. Default 2. */
  maxAttempts?: number;
  /** Connect timeout. Default 5 s. */
  connectTimeoutMs?: number;
  /** A request whose socket stays silent this long fails (retriably). Default 60 s. */
  socketTimeoutMs?: number;
  /** Extra CA certificates (PEM file) trusted for an https endpoint, as AWS_CA_BUNDLE means elsewhere. */
  caBundlePath?: string;
  log?: S3SinkLog;
  /**
   * Features of the endpoint not to use even when the probe finds them (false turns one off): never more than
   * the server was seen to enforce, possibly less. Default: whatever the probe finds.
   */
  putFeatures?: { conditionalPut?: boolean; payloadHashVerified?: boolean; checksumVerified?: boolean };
}

/** The SDK client for these options, and how the endpoint is named in messages. */
export function createS3Client(opts: S3SinkOptions): { client: S3Client; endpointLabel: string } {
  let ca: string[] | undefined;
  if (opts.caBundlePath) {
    try {
      ca = [...rootCertificates, readFileSync(opts.caBundlePath, "utf8")];
    } catch (err) {
      throw new Error(`cannot read the CA bundle ${opts.caBundlePath} (AWS_CA_BUNDLE): ${(err as Error).message}`);
    }
  }
  const client = new S3Client({
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
  return { client, endpointLabel: opts.endpoint ?? `AWS ${opts.region}` };
}
