import { type ReceiveDeps, stagingNameFor, UnacceptableNameError } from "../../service/receive-upload.js";
import { ApiError } from "../errors.js";
import type { UploadLimits } from "../upload-limits.js";

/**
 * What the two upload routes share: POST /api/v1/files (multipart, upload.ts) and PUT /api/v1/files/{name} (the
 * raw body, upload-raw.ts). One copy of each rule, so a name, a limit or an answer cannot differ between them.
 */

/** Used when a caller gives none (tests of other things): generous, but never unbounded. */
export const DEFAULT_LIMITS: UploadLimits = { bodyIdleTimeoutMs: 30_000, maxUploads: 64, maxUploadsPerClient: 8 };

export interface UploadRouteDeps extends ReceiveDeps {
  maxUploadBytes: number;
  limits?: UploadLimits;
  /** The watcher's ignore rule: a name it would skip is refused rather than left in staging forever. */
  isIgnored(name: string): boolean;
}

const accepted = {
  type: "object",
  properties: {
    id: { type: "string", description: "ingest id: follow the file with GET /api/v1/files/{id}" },
    name: { type: "string", description: "the name it was given in staging (made safe, and distinct if taken)" },
    status: { type: "string", enum: ["waiting"] },
  },
  required: ["id", "name", "status"],
} as const;

/** The response schema of both upload routes. */
export const uploadResponseSchema = {
  type: "object",
  description:
    "The files were received and handed to the pipeline, one entry per file part in order. With exactly one " +
    "file, its `id`, `name` and `status` are also given at the top level.",
  properties: { files: { type: "array", items: accepted }, ...accepted.properties },
  required: ["files"],
} as const;

/** For the schemas that document what a route checks itself (the body is a stream the handler reads). */
export const documentedOnly = () => () => true;

/** The name a client's file gets in staging, or the 400 both routes answer for a name sluice would never ingest. */
export function stagingNameOrRefuse(clientName: string | undefined, isIgnored: (name: string) => boolean): string {
  try {
    return stagingNameFor(clientName, isIgnored);
  } catch (err) {
    if (err instanceof UnacceptableNameError) throw new ApiError("SLUICE_ERR_INVALID_PARAMETER_TYPE", err.message);
    throw err;
  }
}

/** A received body the client's declared or streamed size puts over --max-upload-bytes. */
export function tooLarge(maxUploadBytes: number): ApiError {
  return new ApiError("SLUICE_ERR_PAYLOAD_TOO_LARGE", `a file is larger than ${maxUploadBytes} bytes`);
}

/** Reply for a 202: the one shape both routes answer with. */
export function acceptedBody(files: readonly { id: string; name: string }[]) {
  const out = files.map((u) => ({ id: u.id, name: u.name, status: "waiting" as const }));
  return out.length === 1 ? { files: out, ...out[0] } : { files: out };
}
