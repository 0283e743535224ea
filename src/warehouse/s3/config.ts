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

/**
 * `s3://BUCKET/PREFIX` → `{ bucket, prefix }` (prefix without surrounding
 * slashes, possibly ""). A URL without a bucket (`s3://` or `s3:///prefix`)
 * takes `fallbackBucket` (S3_BUCKET); naming two different buckets is an error.
 */
export function parseS3Url(url: string, fallbackBucket?: string): S3Location {
  if (!isS3Url(url)) throw configError(`--warehouse: "${url}" is not an s3://BUCKET/PREFIX URL`);
  const rest = url.replace(SCHEME, "");
  const slash = rest.indexOf("/");
  const named = slash === -1 ? rest : rest.slice(0, slash);
  const prefix = normalizeKeyPath(slash === -1 ? "" : rest.slice(slash + 1), "--warehouse prefix");
  const fallback = fallbackBucket?.trim() || undefined;
  if (named && fallback && named !== fallback) {
    throw configError(`--warehouse names bucket "${named}" but S3_BUCKET says "${fallback}": keep one`);
  }
  const bucket = named || fallback;
  if (!bucket) throw configError(`--warehouse: "${url}" names no bucket (use s3://BUCKET/PREFIX or set S3_BUCKET)`);
  if (!BUCKET_NAME.test(bucket)) {
    throw configError(`"${bucket}" is not a valid bucket name (3-63 letters, digits, ".", "-", "_")`);
  }
  return { bucket, prefix };
}

function parseBool(value: string, from: string): boolean {
  const v = value.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off"].includes(v)) return false;
  throw configError(`${from}: "${value}" is not a boolean (use true or false)`);
}

function parseEndpoint(value: string, from: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configError(`${from}: "${value}" is not a URL (e.g. http://127.0.0.1:9000)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw configError(`${from}: use http:// or https://`);
  // A key in the URL would end up in logs and process listings: that is what the credential variables are for.
  if (url.username || url.password) {
    throw configError(`${from}: put no credentials in the endpoint; use S3_ACCESS_KEY / S3_SECRET_KEY`);
  }
  return value.replace(/\/+$/, "");
}

/** The S3 settings that come from flags; everything else comes from the environment or `.env`. */
export interface S3Flags {
  /** `s3://BUCKET/PREFIX`. */
  warehouse: string;
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  partSizeBytes?: number;
  queueSize?: number;
}

/** Sink options plus where each came from, for a startup log line that shows no secret. */
export interface ResolvedS3Config {
  options: S3SinkOptions;
  /** e.g. `{ endpoint: ".env S3_ENDPOINT", credentials: "AWS SDK default chain" }`. */
  sources: Record<"endpoint" | "region" | "forcePathStyle" | "credentials", string>;
}

/**
 * Resolves the S3 sink's options. A flag wins; then sluice's own names
 * (S3_*) beat the AWS standard ones (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL,
 * AWS_REGION, AWS_DEFAULT_REGION), which are often set machine-wide for other
 * tools; for each name the environment beats `.env`. Credentials come from
 * S3_ACCESS_KEY + S3_SECRET_KEY, else AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY
 * written only in `.env` (the SDK does not read `.env`), else the SDK's own
 * chain (environment, shared profiles, SSO, instance roles) — never a flag.
 * With a custom endpoint, path-style addressing is the default: most
 * S3-compatible servers have no wildcard DNS for bucket host names.
 */
export function resolveS3Config(
  flags: S3Flags,
  env: Record<string, string | undefined>,
  dotEnv: Record<string, string>,
): ResolvedS3Config {
  const pick = (...names: string[]): { value: string; from: string } | undefined => {
    for (const name of names) {
      if (env[name]) return { value: env[name], from: name };
      if (dotEnv[name]) return { value: dotEnv[name], from: `.env ${name}` };
    }
    return undefined;
  };

  const location = parseS3Url(flags.warehouse, pick("S3_BUCKET")?.value);

  const endpointSrc = flags.endpoint
    ? { value: flags.endpoint, from: "--s3-endpoint" }
    : pick("S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL");
  const endpoint = endpointSrc ? parseEndpoint(endpointSrc.value, endpointSrc.from) : undefined;

  const regionSrc = flags.region
    ? { value: flags.region, from: "--s3-region" }
    : pick("S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION");
  const region = regionSrc?.value ?? "us-east-1";

  const styleSrc = pick("S3_FORCE_PATH_STYLE");
  const forcePathStyle =
    flags.forcePathStyle ?? (styleSrc ? parseBool(styleSrc.value, styleSrc.from) : endpoint !== undefined);

  const partSizeBytes = flags.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES;
  if (!Number.isInteger(partSizeBytes) || partSizeBytes < MIN_PART_SIZE_BYTES) {
    throw configError(`S3 part size must be a whole number of bytes, at least 5 MiB (got ${partSizeBytes})`);
  }
  const queueSize = flags.queueSize ?? DEFAULT_QUEUE_SIZE;
  if (!Number.isInteger(queueSize) || queueSize < 1) {
    throw configError(`S3 parts in flight must be a whole number, at least 1 (got ${queueSize})`);
  }

  let credentials: S3SinkOptions["credentials"];
  let credentialsFrom = "AWS SDK default chain";
  const accessKey = pick("S3_ACCESS_KEY");
  const secretKey = pick("S3_SECRET_KEY");
  if (accessKey || secretKey) {
    if (!accessKey || !secretKey) throw configError("set both S3_ACCESS_KEY and S3_SECRET_KEY, or neither");
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
  const caBundle = endpoint?.startsWith("http:") ? undefined : pick("AWS_CA_BUNDLE")?.value;

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
      endpoint: endpointSrc?.from ?? "AWS default for the region",
      region: regionSrc?.from ?? "default",
      forcePathStyle:
        flags.forcePathStyle !== undefined ? "--s3-force-path-style" : (styleSrc?.from ?? "default for the endpoint"),
      credentials: credentialsFrom,
    },
  };
}
