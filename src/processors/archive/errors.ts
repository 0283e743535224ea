import type { ErrorCode } from "../../core/errors.js";

/** Why an archive (or one member of it) could not be read. */
export type ArchiveErrorCode = "corrupt" | "truncated" | "limit" | "unsupported";

/** The catalog code a file failed by each kind of archive problem is reported with. */
const CATALOG_CODE: Record<ArchiveErrorCode, ErrorCode> = {
  corrupt: "SLUICE_ERR_ARCHIVE_CORRUPT",
  truncated: "SLUICE_ERR_ARCHIVE_CORRUPT",
  limit: "SLUICE_ERR_ARCHIVE_LIMIT",
  unsupported: "SLUICE_ERR_PARSE",
};

/**
 * The one error type the archive reader raises for problems with the archive's content,
 * so callers can quarantine by `code` without parsing messages. Plain I/O failures on the
 * archive file itself (ENOENT, EACCES, …) are not wrapped: they are not the archive's fault.
 */
export class ArchiveError extends Error {
  readonly code: ArchiveErrorCode;
  /** The catalog code of the failure (`code` says what kind of damage; several kinds share a catalog code). */
  readonly errorCode: ErrorCode;
  /** The member being read when the problem showed, when there was one. */
  readonly memberPath?: string;

  constructor(code: ArchiveErrorCode, message: string, memberPath?: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "ArchiveError";
    this.code = code;
    this.errorCode = CATALOG_CODE[code];
    if (memberPath !== undefined) this.memberPath = memberPath;
  }
}

const UNSUPPORTED = /not supported|unsupported|encrypt/i;
const TRUNCATED = /unexpected end|unexpected eof|end of file|premature/i;

/**
 * Maps an error from zlib, tar-stream or yauzl onto an ArchiveError. The libraries report
 * damage only through messages and zlib codes, hence the pattern matching.
 */
export function toArchiveError(err: unknown, memberPath?: string): ArchiveError {
  if (err instanceof ArchiveError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const zcode = (e as NodeJS.ErrnoException).code;
  let code: ArchiveErrorCode = "corrupt";
  if (zcode === "Z_BUF_ERROR" || TRUNCATED.test(e.message)) code = "truncated";
  else if (UNSUPPORTED.test(e.message)) code = "unsupported";
  const where = memberPath === undefined ? "" : ` (member ${JSON.stringify(memberPath)})`;
  return new ArchiveError(code, `${code} archive${where}: ${e.message}`, memberPath, e);
}

/** True for errors from the file system rather than from the archive's bytes. */
export function isIoError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" && /^E[A-Z]+$/.test(code);
}
