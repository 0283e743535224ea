/**
 * The error catalog: every error sluice reports has a stable code, a message
 * that tells the operator what to do next, and whether retrying can help.
 * docs/errors.md documents each code.
 */
export const ERROR_CATALOG = {
  SLUICE_ERR_CONFIG: {
    retriable: false,
    httpStatus: 400,
    hint: "fix the flag, environment variable or .env entry named",
  },
  SLUICE_ERR_DIR_UNUSABLE: {
    retriable: false,
    httpStatus: 500,
    hint: "create the directory or fix its permissions, then start again",
  },
  SLUICE_ERR_SOURCE_UNREADABLE: {
    retriable: true,
    httpStatus: 500,
    hint: "check the file's permissions; the file was moved to the error directory",
  },
  SLUICE_ERR_VANISHED: {
    retriable: false,
    httpStatus: 410,
    hint: "the file left staging before it was ingested; nothing was stored",
  },
  SLUICE_ERR_CHECKSUM_MISMATCH: {
    retriable: false,
    httpStatus: 422,
    hint: "the .ok sidecar's SHA-256 differs from the content: re-send the file",
  },
  SLUICE_ERR_NOT_REGULAR: { retriable: false, httpStatus: 422, hint: "only regular files are ingested" },
  SLUICE_ERR_PARSE: {
    retriable: false,
    httpStatus: 422,
    hint: "the file could not be parsed as its extension says; fix it upstream and re-send it",
  },
  SLUICE_ERR_ENCODING: {
    retriable: false,
    httpStatus: 422,
    hint: "the file is not valid UTF-8 text; re-export it as UTF-8 and re-send it",
  },
  SLUICE_ERR_NO_VALID_ROWS: {
    retriable: false,
    httpStatus: 422,
    hint: "no row passed the schema; the reasons per row are in .error.json",
  },
  SLUICE_ERR_ARCHIVE_CORRUPT: {
    retriable: false,
    httpStatus: 422,
    hint: "the archive is damaged or cut short; members read before the damage stay ingested; re-send it whole",
  },
  SLUICE_ERR_ARCHIVE_LIMIT: {
    retriable: false,
    httpStatus: 413,
    hint: "the archive exceeds a --archive-max-* limit (possible decompression bomb); raise the limit if it is legitimate",
  },
  SLUICE_ERR_WAREHOUSE_WRITE: {
    retriable: true,
    httpStatus: 503,
    hint: "the warehouse cannot be written (disk full, permissions): ingestion pauses and resumes by itself once fixed",
  },
  SLUICE_ERR_STATE_STORE: {
    retriable: true,
    httpStatus: 503,
    hint: "the state store cannot be written: check its disk; ingestion resumes by itself",
  },
  SLUICE_ERR_NAME_COLLISION: {
    retriable: false,
    httpStatus: 409,
    hint: "a foreign file occupies every candidate warehouse name: remove it",
  },
  SLUICE_ERR_INTERNAL: {
    retriable: false,
    httpStatus: 500,
    hint: "an unexpected error: the file is kept in the error directory; please report it with the log line",
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

/** Node's errno code of an error, if any. */
export function errnoCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err ? String((err as { code: unknown }).code) : undefined;
}
