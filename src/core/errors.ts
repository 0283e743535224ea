/**
 * The error catalog: every error sluice reports has a stable code, a short
 * title (the HTTP API's `error` field), the HTTP status the API answers with,
 * a hint that tells the operator what to do next, and whether retrying can
 * help. docs/errors.md documents each code.
 */
export const ERROR_CATALOG = {
  SLUICE_ERR_CONFIG: {
    title: "Invalid configuration",
    retriable: false,
    httpStatus: 400,
    hint: "fix the flag, environment variable or .env entry named",
  },
  SLUICE_ERR_DIR_UNUSABLE: {
    title: "Directory unusable",
    retriable: false,
    httpStatus: 500,
    hint: "create the directory or fix its permissions, then start again",
  },
  SLUICE_ERR_SOURCE_UNREADABLE: {
    title: "Source unreadable",
    retriable: true,
    httpStatus: 500,
    hint: "check the file's permissions; the file was moved to the error directory",
  },
  SLUICE_ERR_VANISHED: {
    title: "File vanished",
    retriable: false,
    httpStatus: 410,
    hint: "the file left staging before it was ingested; nothing was stored",
  },
  SLUICE_ERR_CHECKSUM_MISMATCH: {
    title: "Checksum mismatch",
    retriable: false,
    httpStatus: 422,
    hint: "the .ok sidecar's SHA-256 differs from the content: re-send the file",
  },
  SLUICE_ERR_NOT_REGULAR: {
    title: "Not a regular file",
    retriable: false,
    httpStatus: 422,
    hint: "only regular files are ingested",
  },
  SLUICE_ERR_PARSE: {
    title: "Unparseable file",
    retriable: false,
    httpStatus: 422,
    hint: "the file could not be parsed as its extension says; fix it upstream and re-send it",
  },
  SLUICE_ERR_ENCODING: {
    title: "Not UTF-8",
    retriable: false,
    httpStatus: 422,
    hint: "the file is not valid UTF-8 text; re-export it as UTF-8 and re-send it",
  },
  SLUICE_ERR_NO_VALID_ROWS: {
    title: "No valid rows",
    retriable: false,
    httpStatus: 422,
    hint: "no row passed the schema; the reasons per row are in .error.json",
  },
  SLUICE_ERR_SCHEMA_INVALID: {
    title: "Schema file invalid",
    retriable: false,
    httpStatus: 422,
    hint: "the --schema file became unreadable or is not a valid feed schema: fix it (no restart needed), then requeue the files it failed",
  },
  SLUICE_ERR_NOT_REQUEUABLE: {
    title: "Not requeuable",
    retriable: false,
    httpStatus: 409,
    hint: "only a failed file not requeued yet, with its copy in the error directory and its name free in staging, can be requeued",
  },
  SLUICE_ERR_ARCHIVE_CORRUPT: {
    title: "Corrupt archive",
    retriable: false,
    httpStatus: 422,
    hint: "the archive is damaged or cut short; members read before the damage stay ingested; re-send it whole",
  },
  SLUICE_ERR_ARCHIVE_LIMIT: {
    title: "Archive limit exceeded",
    retriable: false,
    httpStatus: 413,
    hint: "the archive exceeds a --archive-max-* limit (possible decompression bomb); raise the limit if it is legitimate",
  },
  SLUICE_ERR_WAREHOUSE_WRITE: {
    title: "Warehouse not writable",
    retriable: true,
    httpStatus: 503,
    hint: "the warehouse cannot be written (disk full, permissions): ingestion pauses and resumes by itself once fixed",
  },
  SLUICE_ERR_STATE_STORE: {
    title: "State store not writable",
    retriable: true,
    httpStatus: 503,
    hint: "the state store cannot be written: check its disk; ingestion resumes by itself",
  },
  SLUICE_ERR_NAME_COLLISION: {
    title: "Name collision",
    retriable: false,
    httpStatus: 409,
    hint: "a foreign file occupies every candidate warehouse name: remove it",
  },
  SLUICE_ERR_NAME_TOO_LONG: {
    title: "Warehouse path too long",
    retriable: false,
    httpStatus: 422,
    hint: "the file's warehouse path is longer than the file system allows (PATH_MAX): shorten the member's directory path",
  },
  SLUICE_ERR_OWNERSHIP_LOST: {
    title: "Ownership lost",
    retriable: false,
    httpStatus: 409,
    hint: "this node was presumed dead and another node adopted the file: the adopter finishes it, nothing to do",
  },
  SLUICE_ERR_NODE_ID_IN_USE: {
    title: "Node id in use",
    retriable: false,
    httpStatus: 409,
    hint: "another running process uses this --node-id: give each process its own",
  },
  SLUICE_ERR_NOTIFY_NO_STREAM: {
    title: "No JetStream stream for a notification subject",
    retriable: false,
    httpStatus: 500,
    hint: "create a JetStream stream whose subjects include the --notify nats:// subject (with a duplicate window), then start sluice again",
  },
  SLUICE_ERR_INTERNAL: {
    title: "Internal error",
    retriable: false,
    httpStatus: 500,
    hint: "an unexpected error: the file is kept in the error directory; please report it with the log line",
  },
  SLUICE_ERR_BAD_REQUEST: {
    title: "Bad request",
    retriable: false,
    httpStatus: 400,
    hint: "fix the parameter or body named in the message; GET /api/v1/openapi.json describes every route",
  },
  SLUICE_ERR_UNAUTHORIZED: {
    title: "Unauthorized",
    retriable: false,
    httpStatus: 401,
    hint: "send the header Authorization: Bearer <token> with the API token sluice serve was started with",
  },
  SLUICE_ERR_CROSS_SITE: {
    title: "Cross-site request refused",
    retriable: false,
    httpStatus: 403,
    hint: "a page on another site may not change anything here: use the dashboard served by sluice itself, curl or sluice upload",
  },
  SLUICE_ERR_REQUEST_HEADER_MISSING: {
    title: "Request header missing",
    retriable: false,
    httpStatus: 403,
    hint: "send the header X-Sluice-Request: 1 with every POST (curl -H 'X-Sluice-Request: 1'); it proves the request is not a cross-site form post",
  },
  SLUICE_ERR_HOST_NOT_ALLOWED: {
    title: "Host not allowed",
    retriable: false,
    httpStatus: 421,
    hint: "use the address sluice serve listens on, or start it with --allowed-host NAME for the name clients (or a proxy) use",
  },
  SLUICE_ERR_NOT_FOUND: {
    title: "Not found",
    retriable: false,
    httpStatus: 404,
    hint: "check the path and the id; GET /api/v1/files lists the files sluice knows",
  },
  SLUICE_ERR_MISSING_FILE: {
    title: "Missing file",
    retriable: false,
    httpStatus: 400,
    hint: "send the content as multipart/form-data with at least one part named file",
  },
  SLUICE_ERR_INVALID_PARAMETER_TYPE: {
    title: "Invalid Parameter Type",
    retriable: false,
    httpStatus: 400,
    hint: "the field named must be a file part (with a filename), not a plain form value",
  },
  SLUICE_ERR_PAYLOAD_TOO_LARGE: {
    title: "Payload too large",
    retriable: false,
    httpStatus: 413,
    hint: "the upload exceeds the server's size limit: split the file, or raise the limit sluice serve was started with",
  },
  SLUICE_ERR_REQUEST_TIMEOUT: {
    title: "Request timeout",
    retriable: true,
    httpStatus: 408,
    hint: "the request's headers or body stopped coming or took too long; nothing of it was ingested: send it again (the limits are sluice serve's --headers-timeout, --body-idle-timeout and --upload-timeout)",
  },
  SLUICE_ERR_TOO_MANY_UPLOADS: {
    title: "Too many uploads",
    retriable: true,
    httpStatus: 503,
    hint: "too many uploads are being received at once (from this client or in all): retry after the Retry-After seconds, or raise --max-uploads-per-client / --max-uploads",
  },
  SLUICE_ERR_UNSUPPORTED_MEDIA_TYPE: {
    title: "Unsupported media type",
    retriable: false,
    httpStatus: 415,
    hint: "send the Content-Type the route expects (multipart/form-data for uploads, application/json otherwise)",
  },
  // Reprocess (issue 21).
  SLUICE_ERR_NOT_REPROCESSABLE: {
    title: "Not reprocessable",
    retriable: false,
    httpStatus: 409,
    hint: "only a stored file (done) whose raw bytes are kept and that a processor handles can be reprocessed; for a duplicate, reprocess its original",
  },
  SLUICE_ERR_RAW_INTEGRITY: {
    title: "Stored raw bytes differ",
    retriable: false,
    httpStatus: 409,
    hint: "the stored raw file is missing or no longer has its recorded SHA-256: nothing was changed; restore it (run sluice verify) before reprocessing",
  },
  SLUICE_ERR_REPROCESS_BUSY: {
    title: "Reprocess in progress",
    retriable: true,
    httpStatus: 409,
    hint: "another reprocess of this file is running (or was cut off and is not recovered yet): try again once it ends",
  },
  // Raw-body uploads (issue 22).
  SLUICE_ERR_UPLOAD_DIGEST_MISMATCH: {
    title: "Upload digest mismatch",
    retriable: true,
    httpStatus: 400,
    hint: "the body's MD5 or SHA-256 is not the one its Content-MD5, x-amz-checksum-sha256, Digest or X-Sluice-Sha256 header gave: nothing was kept; send the file again",
  },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SluiceError";
    this.code = code;
    this.retriable = ERROR_CATALOG[code].retriable;
  }
}

/**
 * The one wording of a reason: the detail, then the catalog's hint in parentheses ("detail (hint)"), as in
 * `.error.json`, the `file_failed` log line and the API's error bodies. Without a detail, the hint alone.
 */
export function withHint(code: ErrorCode, detail?: string): string {
  const { hint } = ERROR_CATALOG[code];
  return detail ? `${detail} (${hint})` : hint;
}

/** Node's errno code of an error, if any. */
export function errnoCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err ? String((err as { code: unknown }).code) : undefined;
}

/** Is `code` one of the catalog's codes (e.g. the `code` of an error thrown by a lower layer)? */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_CATALOG, code);
}
