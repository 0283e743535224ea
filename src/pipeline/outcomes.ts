/** Why a source could not be read as the file that was judged ready. */
export class NotReadyError extends Error {
  constructor(message = "changed while being read") {
    super(message);
  }
}

export class VanishedError extends Error {}

/** Reading the source failed; retried a few times, then the file is quarantined. */
export class SourceReadError extends Error {
  constructor(
    message: string,
    readonly errno: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The warehouse (or state store) refused a write: retried until it works or sluice stops. */
export class SinkWriteError extends Error {
  constructor(
    message: string,
    readonly errno: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// The shutdown's error lives with the one sleep and retry loop that raise it; re-exported for the pipeline.
export { ShutdownError } from "../core/retry.js";

/** errno codes saying the machine is out of something (disk, quota, descriptors): never the file's fault. */
const EXHAUSTED_CODES = new Set(["ENOSPC", "EDQUOT", "EROFS", "EMFILE", "ENFILE"]);
/** The same, as libraries that report by message word it (DuckDB's IO errors, for one). */
const EXHAUSTED_TEXT: [RegExp, string][] = [
  [/no space left on device/i, "ENOSPC"],
  [/disk quota exceeded/i, "EDQUOT"],
  [/read-only file system/i, "EROFS"],
  [/too many open files/i, "EMFILE"],
];

/**
 * The errno of a full disk, an exhausted quota, a read-only filesystem or a full descriptor table anywhere in
 * `err`'s cause chain, whichever library raised it; undefined when the error is about something else. Such a
 * failure pauses and retries the work instead of quarantining the file.
 */
export function resourceExhaustion(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 8; depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === "string" && EXHAUSTED_CODES.has(code)) return code;
    const message = e instanceof Error ? e.message : String(e);
    for (const [re, errno] of EXHAUSTED_TEXT) if (re.test(message)) return errno;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export type Outcome = "ingested" | "duplicate" | "failed" | "vanished" | "not-ready" | "aborted" | "skipped";
