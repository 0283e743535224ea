import { SluiceError } from "../../core/errors.js";
import type { S3Location, S3SinkOptions } from "./client.js";

const SCHEME = /^s3:\/\//i;
// S3's rule, with upper case and "_" let through for buckets made before it (RGW, legacy us-east-1).
const BUCKET_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{1,61}[a-zA-Z0-9]$/;

export const DEFAULT_PART_SIZE_BYTES = 8 * 1024 * 1024;
export const MIN_PART_SIZE_BYTES = 5 * 1024 * 1024;
export const DEFAULT_QUEUE_SIZE = 4;

function configError(message: string): SluiceError {
  return new SluiceError("SLUICE_ERR_CONFIG", message);
}

/** Does a `--warehouse` value name S3 rather than a directory? */
export function isS3Url(value: string): boolean {
  return SCHEME.test(value);
}

/** `a//b/` → `a/b`; rejects `.` and `..` segments, which S3 would keep literally. */
export function normalizeKeyPath(path: string, what: string): string {
  const segments = path.split("/").filter((s) => s !== "");
  if (segments.some((s) => s === "." || s === "..")) throw configError(`${what}: "${path}" has a "." or ".." segment`);
  return segments.join("/");
}

/** A value the configuration has already picked, with where it was written (`--s3-region`, `.env S3_REGION`). */
export interface Sourced<T> {
  value: T;
  from: string;
}

/**
 * `s3://BUCKET/PREFIX` → `{ bucket, prefix }` (prefix without surrounding
 * slashes, possibly ""). A URL without a bucket (`s3://` or `s3:///prefix`)
 * takes `fallbackBucket` (SLUICE_S3_BUCKET); naming two different buckets is an error.
 */
export function parseS3Url(url: string, fallbackBucket?: Sourced<string>): S3Location {
  if (!isS3Url(url)) throw configError(`--warehouse: "${url}" is not an s3://BUCKET/PREFIX URL`);
  const rest = url.replace(SCHEME, "");
  const slash = rest.indexOf("/");
  const named = slash === -1 ? rest : rest.slice(0, slash);
  const prefix = normalizeKeyPath(slash === -1 ? "" : rest.slice(slash + 1), "--warehouse prefix");
  const fallback = fallbackBucket?.value.trim() || undefined;
  if (named && fallback && named !== fallback) {
    throw configError(`--warehouse names bucket "${named}" but ${fallbackBucket?.from} says "${fallback}": keep one`);
  }
  const bucket = named || fallback;
  if (!bucket) {
    throw configError(`--warehouse: "${url}" names no bucket (use s3://BUCKET/PREFIX or set SLUICE_S3_BUCKET)`);
  }
  if (!BUCKET_NAME.test(bucket)) {
    throw configError(`"${bucket}" is not a valid bucket name (3-63 letters, digits, ".", "-", "_")`);
  }
  return { bucket, prefix };
}

function parseEndpoint({ value, from }: Sourced<string>): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configError(`${from}: "${value}" is not a URL (e.g. http://127.0.0.1:9000)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw configError(`${from}: use http:// or https://`);
  // A key in the URL would end up in logs and process listings: that is what the credential variables are for.
  if (url.username || url.password) {
    throw configError(`${from}: put no credentials in the endpoint; use SLUICE_S3_ACCESS_KEY / SLUICE_S3_SECRET_KEY`);
  }
  return value.replace(/\/+$/, "");
}

/**
 * The S3 settings as the configuration decided them (src/config: flag, environment, `.env`, config file, AWS_*
 * fallbacks, in that order): each set one says where it came from, an unset one is absent.
 */
export interface S3Settings {
  /** `s3://BUCKET/PREFIX`. */
  warehouse: string;
  endpoint?: Sourced<string>;
  region?: Sourced<string>;
  forcePathStyle?: Sourced<boolean>;
  bucket?: Sourced<string>;
  accessKey?: Sourced<string>;
  secretKey?: Sourced<string>;
  partSizeBytes: number;
  queueSize: number;
}

/** Sink options plus where each came from, for a startup log line that shows no secret. */
export interface ResolvedS3Config {
  options: S3SinkOptions;
  /** e.g. `{ endpoint: ".env S3_ENDPOINT", credentials: "AWS SDK default chain" }`. */
  sources: Record<"endpoint" | "region" | "forcePathStyle" | "credentials", string>;
}

/**
 * Applies the S3 sink's own rules to settings already picked. Credentials are
 * the access key + secret key pair, else AWS_ACCESS_KEY_ID +
 * AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) written only in `.env` (the SDK
 * reads its variables from the environment but not from `.env`), else the
 * SDK's own chain (environment, shared profiles, SSO, instance roles). `env`
 * and `dotEnv` are read for those SDK variables and AWS_CA_BUNDLE only: they
 * are the SDK's, not sluice options. With a custom endpoint, path-style
 * addressing is the default: most S3-compatible servers have no wildcard DNS
 * for bucket host names.
 */
export function resolveS3Config(
  settings: S3Settings,
  env: Record<string, string | undefined>,
  dotEnv: Record<string, string>,
): ResolvedS3Config {
  const location = parseS3Url(settings.warehouse, settings.bucket);
  const endpoint = settings.endpoint ? parseEndpoint(settings.endpoint) : undefined;
  const region = settings.region?.value ?? "us-east-1";
  const forcePathStyle = settings.forcePathStyle?.value ?? endpoint !== undefined;

  const { partSizeBytes, queueSize } = settings;
  if (!Number.isInteger(partSizeBytes) || partSizeBytes < MIN_PART_SIZE_BYTES) {
    throw configError(`S3 part size must be a whole number of bytes, at least 5 MiB (got ${partSizeBytes})`);
  }
  if (!Number.isInteger(queueSize) || queueSize < 1) {
    throw configError(`S3 parts in flight must be a whole number, at least 1 (got ${queueSize})`);
  }

  let credentials: S3SinkOptions["credentials"];
  let credentialsFrom = "AWS SDK default chain";
  const { accessKey, secretKey } = settings;
  if (accessKey || secretKey) {
    if (!accessKey || !secretKey) {
      const given = (accessKey ?? secretKey)?.from;
      throw configError(`set both SLUICE_S3_ACCESS_KEY and SLUICE_S3_SECRET_KEY, or neither (only ${given} is set)`);
    }
    credentials = { accessKeyId: accessKey.value, secretAccessKey: secretKey.value };
    credentialsFrom = accessKey.from;
  } else if (!env.AWS_ACCESS_KEY_ID && dotEnv.AWS_ACCESS_KEY_ID && dotEnv.AWS_SECRET_ACCESS_KEY) {
    credentials = {
      accessKeyId: dotEnv.AWS_ACCESS_KEY_ID,
      secretAccessKey: dotEnv.AWS_SECRET_ACCESS_KEY,
      ...(dotEnv.AWS_SESSION_TOKEN ? { sessionToken: dotEnv.AWS_SESSION_TOKEN } : {}),
    };
    credentialsFrom = ".env AWS_ACCESS_KEY_ID";
  }

  // The SDK (v3) ignores AWS_CA_BUNDLE; honour it for TLS only, since a plain http endpoint has nothing to verify.
  const caBundle = endpoint?.startsWith("http:") ? undefined : env.AWS_CA_BUNDLE || dotEnv.AWS_CA_BUNDLE || undefined;

  return {
    options: {
      location,
      ...(endpoint ? { endpoint } : {}),
      region,
      forcePathStyle,
      partSizeBytes,
      queueSize,
      ...(credentials ? { credentials } : {}),
      ...(caBundle ? { caBundlePath: caBundle } : {}),
    },
    sources: {
      endpoint: settings.endpoint?.from ?? "AWS default for the region",
      region: settings.region?.from ?? "default",
      forcePathStyle: settings.forcePathStyle?.from ?? "default for the endpoint",
      credentials: credentialsFrom,
    },
  };
}
