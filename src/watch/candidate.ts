import type { FileIdentity } from "../core/file-record.js";

/** A file judged ready: complete by its mode's rule, not yet opened by the pipeline. */
export interface Candidate {
  path: string;
  /** Path relative to the staging directory, with "/" separators. */
  name: string;
  identity: FileIdentity;
  sidecar: { path: string; sha256: string | null } | null;
}
