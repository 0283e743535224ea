import type { Candidate } from "./candidate.js";

/** Decides when a file in staging is complete. Detectors emit candidates and never write state. */
export interface CompletionDetector {
  /** Look at one path now (after an event, a rescan, or a hand-back from the pipeline). */
  observe(path: string, name: string): Promise<void>;
  /** Files seen but not yet ready: what `--once` waits for. */
  pending(): number;
  stop(): void;
}

export type ReadyHandler = (c: Candidate) => void;
