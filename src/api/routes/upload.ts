import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import multipart from "@fastify/multipart";
import type { FastifyPluginAsync } from "fastify";
import { commitParts, discardParts, type ReceivedPart, receivePart } from "../../service/receive-upload.js";
import { ApiError, errorResponses } from "../errors.js";
import { lingeringClose, RequestDied, requestDied, UploadGate } from "../upload-limits.js";
import { postHeaders } from "./shared-schemas.js";
import {
  acceptedBody,
  DEFAULT_LIMITS,
  documentedOnly,
  stagingNameOrRefuse,
  tooLarge,
  type UploadRouteDeps,
  uploadResponseSchema,
} from "./upload-common.js";

import { rawUploadRoutes } from "./upload-raw.js";

export type { UploadRouteDeps } from "./upload-common.js";

/**
 * The route's whole contract. The body and the header are documented here but
 * checked elsewhere: the body is a stream the handler reads part by part (it
 * answers MISSING_FILE, INVALID_PARAMETER_TYPE, PAYLOAD_TOO_LARGE itself), and
 * `X-Sluice-Request` is required by the site guard before validation runs, so
 * the route's validator compiler passes both (`documentedOnly`).
 */
export const uploadSchema = {
  summary: "Upload one or more files (all or nothing)",
  description:
    "Every `file` part of a multipart/form-data body is streamed to staging; once the whole body is in, all are " +
    "handed to the pipeline and the answer is 202 with an id per file. If any part is refused, none is ingested.",
  tags: ["files"],
  headers: postHeaders,
  body: {
    content: {
      "multipart/form-data": {
        schema: {
          type: "object",
          required: ["file"],
          properties: {
            file: {
              type: "array",
              description: "one part per file, each named `file` and carrying a filename",
              items: { type: "string", contentMediaType: "application/octet-stream" },
            },
          },
        },
      },
    },
  },
  response: {
    202: uploadResponseSchema,
    ...errorResponses([401, 421, 500], {
      400:
        "no `file` part (SLUICE_ERR_MISSING_FILE); a body that is not multipart/form-data, a file field not named " +
        "`file` or an unacceptable file name (SLUICE_ERR_INVALID_PARAMETER_TYPE); a malformed or cut-off body " +
        "(SLUICE_ERR_BAD_REQUEST). No file of the request is ingested",
      403: "no X-Sluice-Request header (SLUICE_ERR_REQUEST_HEADER_MISSING), or a cross-site request (SLUICE_ERR_CROSS_SITE)",
      408: "the body stalled or came too slowly (SLUICE_ERR_REQUEST_TIMEOUT); no file of the request is ingested",
      413: "a file, or the count of files or parts, exceeds the limit (SLUICE_ERR_PAYLOAD_TOO_LARGE); none is ingested",
      415: "a body type sluice does not read (SLUICE_ERR_UNSUPPORTED_MEDIA_TYPE): send multipart/form-data",
      503: "too many uploads in flight from this client or in all (SLUICE_ERR_TOO_MANY_UPLOADS); see Retry-After",
    }),
  },
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

/** The error a failed parse answers with: the client's fault is a 4xx with what to fix, the disk's a 500. */
function refusal(err: unknown, maxUploadBytes: number): unknown {
  if (err instanceof ApiError) return err;
  if (isFileTooLarge(err)) return tooLarge(maxUploadBytes);
  // The parser's count limits (files, parts, fields): a request too big in another way than bytes.
  if ((err as { statusCode?: number }).statusCode === 413) {
    return new ApiError(
      "SLUICE_ERR_PAYLOAD_TOO_LARGE",
      `${(err as Error).message}: at most 100 files, 20 fields and 200 parts in one request; send them in several`,
    );
  }
  if ((err as NodeJS.ErrnoException).syscall) return err; // the disk, not the request: a 500
  return new ApiError("SLUICE_ERR_BAD_REQUEST", `malformed multipart body: ${(err as Error).message}`);
}

/**
 * POST /api/v1/files: every `file` part of a multipart/form-data body is
 * streamed into a temp file in staging; once the whole body has been read
 * without error they are all linked into staging and handed to the pipeline,
 * and the answer is 202 with an id per file (GET /api/v1/files/:id follows
 * it). All or nothing: if any part is refused (too large, too many, a bad
 * name, a malformed or cut-off body, a timeout) the request gets the error and
 * none of its files is ingested — a client never has to find out which of its
 * files went in without an id.
 */
export function uploadRoutes(deps: UploadRouteDeps): FastifyPluginAsync {
  const gate = new UploadGate(deps.limits ?? DEFAULT_LIMITS);
  return async (app) => {
    await app.register(multipart, {
      throwFileSizeLimit: true,
      limits: { fileSize: deps.maxUploadBytes, files: 100, fields: 20, parts: 200, headerPairs: 100 },
    });
    // Before the PUT route's registration, so that it inherits the hook: one bound on uploads in flight for both.
    app.addHook("onRequest", gate.hook);
    // PUT /api/v1/files/{name} (the body is the file), in a scope of its own: no multipart parser, none at all.
    await app.register(rawUploadRoutes(deps));
    app.post("/files", { schema: uploadSchema, validatorCompiler: documentedOnly }, async (req, reply) => {
      if (!req.isMultipart()) {
        throw new ApiError(
          "SLUICE_ERR_INVALID_PARAMETER_TYPE",
          "send multipart/form-data with the file in a field named `file`",
        );
      }
      const received: ReceivedPart[] = [];
      let abandoned = false;
      const readAll = async () => {
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
            name = stagingNameOrRefuse(part.filename, deps.isIgnored);
          } catch (err) {
            part.file.resume();
            throw err;
          }
          const stopCut = cutOffWithRequest(req.raw, part.file);
          try {
            const got = await receivePart(deps, part.file, name, () => {
              if (part.file.truncated) throw new ApiError("SLUICE_ERR_PAYLOAD_TOO_LARGE");
            });
            received.push(got);
            // The request already failed while this part was finishing: it is not kept either.
            if (abandoned) await discardParts([got]);
          } finally {
            stopCut();
          }
        }
      };
      // A connection that dies while the parser waits between parts may leave that wait pending for ever: the
      // race makes sure the request's temp files are removed all the same.
      const died = requestDied(req);
      try {
        await Promise.race([readAll(), died.promise]);
      } catch (err) {
        abandoned = true;
        // The rest of a refused body is not worth reading (it may be gigabytes): the connection goes after the answer
        // and a short linger, so the client still reads the answer.
        lingeringClose(reply);
        await discardParts(received);
        if (err instanceof RequestDied) {
          req.log.info({ event: "upload_abandoned", parts: received.length }, err.message);
        }
        throw refusal(err, deps.maxUploadBytes);
      } finally {
        died.stop();
      }
      if (received.length === 0) throw new ApiError("SLUICE_ERR_MISSING_FILE", "no file part named `file` in the body");
      reply.code(202);
      return acceptedBody(await commitParts(deps, received));
    });
  };
}
