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

export class ShutdownError extends Error {}

export type Outcome = "ingested" | "duplicate" | "failed" | "vanished" | "not-ready" | "aborted" | "skipped";
