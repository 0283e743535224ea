import pino, { type Logger } from "pino";

export type { Logger };

/**
 * JSON lines on stdout, one object per event, with a stable `event` field.
 * Synchronous writes: a line logged before a crash is on the pipe, which the
 * crash tests rely on to know what was done.
 */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      base: { service: "sluice", pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: 1, sync: true }),
  );
}
