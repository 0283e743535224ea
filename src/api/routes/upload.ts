import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import multipart from "@fastify/multipart";
import type { FastifyPluginAsync } from "fastify";
import {
  type ReceiveDeps,
  receiveUpload,
  stagingNameFor,
  UnacceptableNameError,
} from "../../service/receive-upload.js";
import { ApiError } from "../errors.js";

export interface UploadRouteDeps extends ReceiveDeps {
  maxUploadBytes: number;
  /** The watcher's ignore rule: a name it would skip is refused rather than left in staging forever. */
  isIgnored(name: string): boolean;
}

const accepted = {
  type: "object",
  properties: { id: { type: "string" }, name: { type: "string" }, status: { type: "string", enum: ["waiting"] } },
  required: ["id", "name", "status"],
} as const;

/** The response schema of POST /api/v1/files, shared with the OpenAPI document. */
export const uploadResponseSchema = {
  type: "object",
  properties: { files: { type: "array", items: accepted }, ...accepted.properties },
  required: ["files"],
} as const;

/**
 * A body that ends (or a client that goes away) inside a file part leaves the
 * part's stream open for ever: the parser waits for a closing boundary that
 * will not come. Once the request has no more bytes to give and the part has
 * handed over everything it holds without ending, it never will: it is ended
 * with an error, so the upload is refused (400) and its temp file removed,
 * instead of a handler, a descriptor and a hidden temp file leaking per such
 * request. Returns the function that stops watching.
 */
function cutOffWithRequest(raw: IncomingMessage, file: Readable): () => void {
  let timer: NodeJS.Timeout | undefined;
  const watch = () => {
    if (timer) return;
    // Polled, not immediate: after the last bytes the parser still has to push the part's end through.
    timer = setInterval(() => {
      if (file.readableEnded || file.destroyed) return clearInterval(timer);
      if (file.readableLength === 0) {
        clearInterval(timer);
        file.destroy(new Error("the body ended inside a file part (no closing multipart boundary)"));
      }
    }, 100);
  };
  if (raw.readableEnded || raw.destroyed) watch();
  else {
    raw.once("end", watch);
    raw.once("close", watch);
  }
  return () => {
    clearInterval(timer);
    raw.off("end", watch);
    raw.off("close", watch);
  };
}

function isFileTooLarge(err: unknown): boolean {
  return (err as { code?: string }).code === "FST_REQ_FILE_TOO_LARGE";
}

/**
 * POST /api/v1/files: every `file` part of a multipart/form-data body is
 * streamed into staging (temp name, fsync, link) and handed to the pipeline;
 * the answer is 202 with an id per file, which GET /api/v1/files/:id follows.
 */
export function uploadRoutes(deps: UploadRouteDeps): FastifyPluginAsync {
  return async (app) => {
    await app.register(multipart, {
      throwFileSizeLimit: true,
      limits: { fileSize: deps.maxUploadBytes, files: 100, fields: 20, parts: 200, headerPairs: 100 },
    });
    app.post("/files", { schema: { response: { 202: uploadResponseSchema } } }, async (req, reply) => {
      if (!req.isMultipart()) {
        throw new ApiError(
          "SLUICE_ERR_INVALID_PARAMETER_TYPE",
          "send multipart/form-data with the file in a field named `file`",
        );
      }
      const files: { id: string; name: string; status: "waiting" }[] = [];
      try {
        for await (const part of req.parts()) {
          if (part.type !== "file") continue;
          if (part.fieldname !== "file") {
            part.file.resume();
            throw new ApiError(
              "SLUICE_ERR_INVALID_PARAMETER_TYPE",
              `unexpected file field "${part.fieldname}": use \`file\``,
            );
          }
          let name: string;
          try {
            name = stagingNameFor(part.filename, deps.isIgnored);
          } catch (err) {
            part.file.resume();
            if (err instanceof UnacceptableNameError)
              throw new ApiError("SLUICE_ERR_INVALID_PARAMETER_TYPE", err.message);
            throw err;
          }
          const stopCut = cutOffWithRequest(req.raw, part.file);
          let u: Awaited<ReturnType<typeof receiveUpload>>;
          try {
            u = await receiveUpload(deps, part.file, name, () => {
              if (part.file.truncated) throw new ApiError("SLUICE_ERR_PAYLOAD_TOO_LARGE");
            });
          } finally {
            stopCut();
          }
          files.push({ id: u.id, name: u.name, status: "waiting" });
        }
      } catch (err) {
        if (err instanceof ApiError) throw err;
        if (isFileTooLarge(err)) {
          throw new ApiError("SLUICE_ERR_PAYLOAD_TOO_LARGE", `a file is larger than ${deps.maxUploadBytes} bytes`);
        }
        if ((err as NodeJS.ErrnoException).syscall) throw err; // the disk, not the request: a 500
        throw new ApiError("SLUICE_ERR_BAD_REQUEST", `malformed multipart body: ${(err as Error).message}`);
      }
      if (files.length === 0) throw new ApiError("SLUICE_ERR_MISSING_FILE", "no file part named `file` in the body");
      reply.code(202);
      return files.length === 1 ? { files, ...files[0] } : { files };
    });
  };
}
