import type { FastifyPluginAsync } from "fastify";
import type { RequeueOutcome } from "../../requeue/requeue-file.js";
import { ApiError, errorResponses } from "../errors.js";
import { postHeaders } from "./shared-schemas.js";

/** How the route requeues a file: `requeueFile` over the service's own state and staging directory. */
export interface RequeueRouteDeps {
  requeue(id: string): Promise<RequeueOutcome>;
}

const accepted = {
  type: "object",
  description: "the file is back in staging; the pipeline ingests it and links the new attempt to this one",
  required: ["id", "status", "name"],
  properties: {
    id: { type: "string", description: "the failed file's id; its `requeued_to` names the new attempt once recorded" },
    status: { type: "string", enum: ["pending"] },
    name: { type: "string", description: "the name it was handed back under, relative to staging" },
  },
} as const;

export const requeueSchema = {
  summary: "Requeue a failed file",
  description:
    "Puts a quarantined file back through the pipeline from the error directory (as `sluice requeue ID`): the " +
    "intent is recorded, the copy moved back into staging under its name, its `.error.json` removed; the pipeline " +
    "then ingests it like any file and links the new attempt (`requeued_from`) to this one (`requeued_to`). Once " +
    "per failed file: asking again while it is pending answers 202 again, once linked 409.",
  tags: ["files"],
  headers: postHeaders,
  params: {
    type: "object",
    required: ["id"],
    properties: { id: { type: "string", minLength: 1, maxLength: 200, description: "the failed file's ingest id" } },
  },
  response: {
    202: accepted,
    ...errorResponses([401, 421, 500, 503], {
      400: "an id longer than 200 characters, or badly percent-encoded (SLUICE_ERR_BAD_REQUEST)",
      403: "no X-Sluice-Request header (SLUICE_ERR_REQUEST_HEADER_MISSING), or a cross-site request (SLUICE_ERR_CROSS_SITE)",
      404: "no file has this id (SLUICE_ERR_NOT_FOUND)",
      409:
        "not requeuable (SLUICE_ERR_NOT_REQUEUABLE): not failed, requeued already (the message names the new " +
        "attempt), nothing kept in the error directory, or its name taken in staging",
    }),
  },
} as const;

/** `POST /api/v1/files/:id/requeue`. */
export function requeueRoutes(deps: RequeueRouteDeps): FastifyPluginAsync {
  return async (app) => {
    app.post<{ Params: { id: string } }>("/files/:id/requeue", { schema: requeueSchema }, async (req, reply) => {
      const o = await deps.requeue(req.params.id);
      if (o.result === "pending") return reply.code(202).send({ id: o.id, status: "pending", name: o.name });
      if (o.result === "already") {
        throw new ApiError("SLUICE_ERR_NOT_REQUEUABLE", `requeued already: the new attempt is ${o.newId}`);
      }
      if (o.reason === "unknown") throw new ApiError("SLUICE_ERR_NOT_FOUND", `no file with id ${o.id.slice(0, 200)}`);
      throw new ApiError("SLUICE_ERR_NOT_REQUEUABLE", `${o.reason}: ${o.message}`);
    });
  };
}
