import { NETWORK_ERRNO } from "../../core/network-errors.js";
/**
 * A failure that retrying cannot fix: a missing bucket, refused or unknown
 * credentials, a wrong region, an operation the server does not implement.
 * The message is one line an operator can act on.
 */
export class S3PermanentError extends Error {
  /** The S3 error code (`NoSuchBucket`, `AccessDenied`, ...) or the SDK error name. */
  readonly code: string;
  readonly httpStatus: number | undefined;
  constructor(message: string, opts: { code: string; httpStatus?: number; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = "S3PermanentError";
    this.code = opts.code;
    this.httpStatus = opts.httpStatus;
  }
}

// The store-independent errors, under the names the S3 code and its tests have always used.
import { IntegrityError as S3IntegrityError, OccupiedError as S3KeyOccupiedError } from "../warehouse.js";

export { S3IntegrityError, S3KeyOccupiedError };

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

// Throttling, server trouble and transit corruption (the signed payload hash
// or Content-MD5 did not match what arrived): a later attempt can succeed.
const RETRIABLE_CODES = new Set([
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "BandwidthLimitExceeded",
  "ServiceUnavailable",
  "InternalError",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "PriorRequestNotComplete",
  "RequestTimeTooSkewed",
  "XAmzContentSHA256Mismatch",
  "BadDigest",
  // A multipart upload aborted under us (a stale-upload sweep, a restarted server): the next put starts afresh.
  "NoSuchUpload",
]);

const RETRIABLE_MESSAGE = /socket hang up|network socket disconnected|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT/i;

const PERMANENT_CODES = new Set([
  "NoSuchBucket",
  "AccessDenied",
  "AllAccessDisabled",
  "AccountProblem",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "AuthorizationHeaderMalformed",
  "PermanentRedirect",
  "IllegalLocationConstraintException",
  "InvalidBucketName",
  "InvalidAccessPoint",
  "NotImplemented",
  "ExpiredToken",
  "InvalidToken",
  "CredentialsProviderError",
]);

function shape(err: unknown): SdkErrorShape | undefined {
  return typeof err === "object" && err !== null ? (err as SdkErrorShape) : undefined;
}

/** The S3 error code, else the SDK error's name. */
export function s3ErrorCode(err: unknown): string | undefined {
  const e = shape(err);
  if (!e) return undefined;
  if (typeof e.Code === "string") return e.Code;
  if (typeof e.name === "string" && e.name !== "Error") return e.name;
  return typeof e.code === "string" ? e.code : undefined;
}

/** The HTTP status the server answered with, if it answered at all. */
export function s3HttpStatus(err: unknown): number | undefined {
  const status = shape(err)?.$metadata?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

function retriableHere(e: SdkErrorShape): boolean {
  if (e.name === "AbortError") return false;
  if (e.$retryable) return true;
  if (typeof e.code === "string" && NETWORK_ERRNO.has(e.code)) return true;
  const code = s3ErrorCode(e);
  if (code !== undefined && PERMANENT_CODES.has(code)) return false;
  if (code !== undefined && RETRIABLE_CODES.has(code)) return true;
  const status = s3HttpStatus(e);
  // 501 Not Implemented and 505 will answer the same way next time.
  if (status !== undefined && status >= 500 && status !== 501 && status !== 505) return true;
  if (status === 429 || status === 408) return true;
  return status === undefined && typeof e.message === "string" && RETRIABLE_MESSAGE.test(e.message);
}

/**
 * Would the same request, sent again later, likely succeed? True for
 * throttling (SlowDown, 429, 503), other 5xx, timeouts, and connections
 * refused, reset or cut. Looks through `cause` chains and AggregateErrors
 * (Node's happy-eyeballs connect reports one per address).
 */
export function isRetriableS3Error(err: unknown): boolean {
  if (err instanceof S3PermanentError || err instanceof S3IntegrityError || err instanceof S3KeyOccupiedError) {
    return false;
  }
  const seen = new Set<unknown>();
  const visit = (x: unknown, depth: number): boolean => {
    const e = shape(x);
    if (!e || seen.has(x) || depth > 5) return false;
    seen.add(x);
    if (retriableHere(e)) return true;
    if (Array.isArray(e.errors) && e.errors.some((inner) => visit(inner, depth + 1))) return true;
    return visit(e.cause, depth + 1);
  };
  return visit(err, 0);
}

/** Where an error happened, for the message. */
export interface S3ErrorContext {
  op: string;
  bucket: string;
  key?: string;
  endpoint: string;
}

function reasonFor(code: string, status: number | undefined, ctx: S3ErrorContext): string | undefined {
  switch (code) {
    case "NoSuchBucket":
      return `bucket "${ctx.bucket}" does not exist`;
    case "InvalidAccessKeyId":
      return "the access key ID is unknown to the server (check SLUICE_S3_ACCESS_KEY / AWS_ACCESS_KEY_ID or the AWS profile)";
    case "SignatureDoesNotMatch":
      return "the secret key does not match the access key (check SLUICE_S3_SECRET_KEY / AWS_SECRET_ACCESS_KEY or the AWS profile)";
    case "AccessDenied":
    case "AllAccessDisabled":
    case "AccountProblem":
      return "access denied: these credentials may not use this bucket or key";
    case "AuthorizationHeaderMalformed":
    case "PermanentRedirect":
    case "IllegalLocationConstraintException":
      return "the bucket is in another region (set --s3-region / SLUICE_S3_REGION)";
    case "InvalidBucketName":
      return `"${ctx.bucket}" is not a valid bucket name`;
    case "ExpiredToken":
    case "InvalidToken":
      return "the session token is expired or invalid";
    case "CredentialsProviderError":
      return "no S3 credentials found (set SLUICE_S3_ACCESS_KEY and SLUICE_S3_SECRET_KEY, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an AWS profile)";
    case "NotImplemented":
      return "the server does not implement this operation";
  }
  // HEAD answers carry no body, so only the status tells what went wrong.
  if (status === 404 && ctx.op === "HeadBucket") return `bucket "${ctx.bucket}" does not exist`;
  if (status === 403)
    return "access denied (HTTP 403): wrong access key or secret key, or no permission on this bucket";
  if (status === 301)
    return "the bucket is in another region or needs another endpoint (set --s3-region / SLUICE_S3_REGION)";
  if (status === 400 && ctx.op === "HeadBucket") return "bad request (HTTP 400): often a wrong region or endpoint";
  if (status !== undefined && status >= 400 && status < 500) return "the server refused the request";
  return undefined;
}

/**
 * The permanent form of `err`, with one clear line naming the operation, the
 * bucket or key, the endpoint and what to fix; `undefined` when the error is
 * retriable or not an S3 refusal (a bug, a local file error), so the caller
 * rethrows it as it is.
 */
export function toS3PermanentError(err: unknown, ctx: S3ErrorContext): S3PermanentError | undefined {
  if (err instanceof S3PermanentError) return err;
  if (isRetriableS3Error(err)) return undefined;
  const code = s3ErrorCode(err) ?? "Unknown";
  const status = s3HttpStatus(err);
  const reason = reasonFor(code, status, ctx);
  if (reason === undefined) return undefined;
  const where = ctx.key === undefined ? `s3://${ctx.bucket}` : `s3://${ctx.bucket}/${ctx.key}`;
  const detail = status === undefined ? code : `${code}, HTTP ${status}`;
  return new S3PermanentError(`S3 ${ctx.op} ${where} at ${ctx.endpoint}: ${reason} (${detail})`, {
    code,
    httpStatus: status,
    cause: err,
  });
}

/** A short label for logs and counters: `ECONNREFUSED`, `SlowDown (HTTP 503)`. */
export function describeS3Error(err: unknown): string {
  const e = shape(err);
  const errno = typeof e?.code === "string" ? e.code : undefined;
  const code = errno ?? s3ErrorCode(err) ?? "Error";
  const status = s3HttpStatus(err);
  return status === undefined ? code : `${code} (HTTP ${status})`;
}

/** `err` as the caller should see it: its permanent form (one line saying what to fix) if it has one, else itself. */
export function classifyS3Error(err: unknown, ctx: S3ErrorContext): unknown {
  return toS3PermanentError(err, ctx) ?? err;
}
