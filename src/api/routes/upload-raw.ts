import type { FastifyPluginAsync } from "fastify";
import { commitParts, discardParts, type ReceivedPart, receivePart } from "../../service/receive-upload.js";
import { ApiError, errorResponses } from "../errors.js";
import { lingeringClose, RequestDied, requestDied } from "../upload-limits.js";
import { postHeaders } from "./shared-schemas.js";
import {
  acceptedBody,
  documentedOnly,
  stagingNameOrRefuse,
  tooLarge,
  type UploadRouteDeps,
  uploadResponseSchema,
} from "./upload-common.js";
import { BodyTap, type ExpectedDigest, expectedDigests } from "./upload-digests.js";

const digestHeaders = {
  "Content-MD5": { type: "string", description: "base64 MD5 of the body (RFC 1864); checked when given" },
  "x-amz-checksum-sha256": { type: "string", description: "base64 SHA-256 of the body (as S3); checked when given" },
  Digest: {
    type: "string",
    description: "`sha-256=<base64>` and/or `md5=<base64>` (RFC 3230); checked when given, other algorithms ignored",
  },
  "X-Sluice-Sha256": { type: "string", description: "hex SHA-256 of the body; checked when given" },
} as const;

/** The route's contract; as for POST, the body and headers are checked by the handler (`documentedOnly`). */
export const rawUploadSchema = {
  summary: "Upload one file as the request body",
  description:
    "The body is the file (`curl -T FILE -H 'X-Sluice-Request: 1' URL`), with Content-Length or chunked, in any " +
    "Content-Type. It is streamed to staging under `name` (made safe exactly as a multipart filename), fsynced, " +
    "and handed to the pipeline: 202 with its id. Integrity headers are checked when given; a body that does " +
    "not match, is cut off or is too large leaves nothing in staging.",
  tags: ["files"],
  params: {
    type: "object",
    required: ["id"],
    properties: {
      id: {
        type: "string",
        description:
          "for PUT, the name the file takes in staging (its last path segment), not an ingest id: one path template " +
          "`/api/v1/files/{id}` serves both, as OpenAPI forbids two templates that differ only in a parameter's name",
      },
    },
  },
  headers: {
    ...postHeaders,
    properties: {
      "X-Sluice-Request": {
        type: "string",
        description:
          "any value; required on every PUT as on every POST: a cross-site page cannot send it (403 without)",
      },
      ...digestHeaders,
    },
  },
  body: {
    content: {
      "application/octet-stream": {
        schema: { type: "string", contentMediaType: "application/octet-stream", description: "the file's bytes" },
      },
    },
  },
  response: {
    202: {
      ...uploadResponseSchema,
      description: "The file was received and handed to the pipeline: POST's answer, with this one file in `files`.",
    },
    ...errorResponses([401, 421, 500], {
      400:
        "an unacceptable file name (SLUICE_ERR_INVALID_PARAMETER_TYPE); a malformed integrity header or a cut-off " +
        "body (SLUICE_ERR_BAD_REQUEST); a body whose digest is not the header's (SLUICE_ERR_UPLOAD_DIGEST_MISMATCH). " +
        "Nothing is ingested",
      403: "no X-Sluice-Request header (SLUICE_ERR_REQUEST_HEADER_MISSING), or a cross-site request (SLUICE_ERR_CROSS_SITE)",
      408: "the body stalled or came too slowly (SLUICE_ERR_REQUEST_TIMEOUT); nothing is ingested",
      413: "the body (declared or sent) exceeds the limit (SLUICE_ERR_PAYLOAD_TOO_LARGE); nothing is ingested",
      503: "too many uploads in flight from this client or in all (SLUICE_ERR_TOO_MANY_UPLOADS); see Retry-After",
    }),
  },
} as const;

/** The answer to a receive that failed: the client's fault a 4xx, the disk's a 500. */
function refusal(err: unknown): unknown {
  if (err instanceof ApiError) return err;
  if ((err as NodeJS.ErrnoException).syscall) return err; // the disk, not the request: a 500
  return new ApiError("SLUICE_ERR_BAD_REQUEST", `the body was cut off: ${(err as Error).message}`);
}

/**
 * PUT /api/v1/files/{name}: the request body is the file. No multipart parser
 * scans it: the socket's chunks go through a tap (byte count, the hashes the
 * headers ask for) into a temp file in staging with large writes, the same
 * `receivePart`/`commitParts` placement as POST (temp, fdatasync, link), so the
 * answer, the names and the all-or-nothing rule are POST's. Registered by
 * `uploadRoutes` inside its scope, so POST's onRequest gate (uploads in flight, the body-idle timeout) is this
 * route's too: one bound for both, never a hook of its own that would count a PUT twice.
 */
export function rawUploadRoutes(deps: UploadRouteDeps): FastifyPluginAsync {
  return async (app) => {
    // The body is the file: none of Fastify's parsers may buffer it (JSON and text bodies would be read whole and
    // parsed). Scoped to this plugin; the handler streams `request.raw` itself.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("*", (_req, _payload, done) => done(null, undefined));
    app.put<{ Params: { id: string } }>(
      "/files/:id",
      { schema: rawUploadSchema, validatorCompiler: documentedOnly },
      async (req, reply) => {
        let name: string;
        let digests: ExpectedDigest[];
        try {
          name = stagingNameOrRefuse(req.params.id, deps.isIgnored);
          const declared = req.headers["content-length"];
          if (declared !== undefined && Number(declared) > deps.maxUploadBytes) throw tooLarge(deps.maxUploadBytes);
          digests = expectedDigests(req.headers);
        } catch (err) {
          // Refused before a byte was read: the rest of the body is dropped for a moment, so the client reads this.
          lingeringClose(reply);
          throw err;
        }
        const raw = req.raw;
        const tap = new BodyTap(digests, deps.maxUploadBytes, () => tooLarge(deps.maxUploadBytes));
        // pipe(), not pipeline(): a refusal of the tap (413) must not destroy the request, whose socket carries the
        // answer. A request that dies mid-body ends the tap with an error instead, so receivePart removes its temp.
        const cutOff = () => {
          if (!raw.readableEnded) tap.destroy(new Error("the connection closed before the whole body was received"));
        };
        raw.once("error", (err) => tap.destroy(err));
        raw.once("close", cutOff);
        // The tap can fail (413) before receivePart has opened its temp file and piped it: kept for the answer.
        let tapFailure: unknown = null;
        tap.on("error", (err) => {
          tapFailure ??= err;
        });
        const died = requestDied(req);
        // Called once the body is all written and before the fdatasync: a refused body costs no flush.
        const receiving = receivePart(deps, raw.pipe(tap), name, () => {
          // Node's parser ends a request only once its Content-Length or last chunk is in; checked all the same.
          const declared = req.headers["content-length"];
          if (!raw.readableEnded || (declared !== undefined && Number(declared) !== tap.bytes)) {
            throw new ApiError("SLUICE_ERR_BAD_REQUEST", `the body was cut off after ${tap.bytes} bytes`);
          }
          const bad = tap.mismatch(digests);
          if (bad) {
            throw new ApiError(
              "SLUICE_ERR_UPLOAD_DIGEST_MISMATCH",
              `the body (${tap.bytes} bytes) does not have the ${bad.header} given`,
            );
          }
        });
        let got: ReceivedPart;
        try {
          got = await Promise.race([receiving, died.promise]);
        } catch (err) {
          lingeringClose(reply);
          // The request died while the part was still finishing: whatever it leaves is not kept either.
          receiving.then((p) => discardParts([p])).catch(() => undefined);
          raw.unpipe(tap);
          tap.destroy();
          if (err instanceof RequestDied) req.log.info({ event: "upload_abandoned", parts: 1 }, err.message);
          throw refusal(tapFailure ?? err);
        } finally {
          died.stop();
          raw.off("close", cutOff);
        }
        reply.code(202);
        return acceptedBody(await commitParts(deps, [got]));
      },
    );
  };
}
