import type { FastifyPluginAsync } from "fastify";
import type { ProcessingRecordV1 } from "../../core/processing.js";
import type { ReprocessOutcome } from "../../pipeline/reprocess/reprocess-file.js";
import type { ApiDeps } from "../deps.js";
import { ApiError, errorResponses } from "../errors.js";
import { fileDetail } from "../file-listing.js";
import { ALL_COMMON, BAD_ID, idParams } from "./shared-schemas.js";

/** What the reprocess route runs (the serving process's pipeline, wired by `sluice serve`). */
export interface ReprocessRouteDeps {
  reprocess(id: string): Promise<ReprocessOutcome>;
}

const NO_FILE = "no file has this id (SLUICE_ERR_NOT_FOUND)";

export const historySchema = {
  $id: "FileHistory",
  type: "object",
  description: "A file's generations of derived outputs, oldest first (generation 0: those of the ingest)",
  required: ["id", "generation", "items"],
  properties: {
    id: { type: "string" },
    generation: { type: "integer", description: "the current generation" },
    items: {
      type: "array",
      items: {
        type: "object",
        required: ["generation", "kind", "recorded_at", "status", "schema", "outputs", "aggregations", "invalid_count"],
        properties: {
          generation: { type: "integer" },
          kind: { type: "string", enum: ["ingested", "reprocessed"] },
          recorded_at: { type: ["string", "null"], description: "when this generation became current (ISO 8601 UTC)" },
          status: { type: ["string", "null"], description: "processed, partial; null when no processor ran" },
          schema: { type: ["string", "null"], description: "the schema (feed) that validated it" },
          outputs: {
            type: "array",
            items: {
              type: "object",
              required: ["kind", "path", "row_count"],
              properties: {
                kind: { type: "string" },
                path: { type: "string" },
                table: { type: "string" },
                row_count: { type: ["integer", "null"] },
              },
            },
          },
          aggregations: { type: ["object", "null"], additionalProperties: true },
          invalid_count: { type: ["integer", "null"] },
        },
      },
    },
  },
} as const;

export const reprocessSchema = {
  summary: "Reprocess a stored file from its raw bytes",
  description:
    "Runs conversion and validation again on the file's stored raw bytes (checked against the recorded SHA-256 " +
    "first) with this server's processors and schema, in the serving process, and answers once the new generation " +
    "is current: its outputs replaced the previous ones atomically, its manifest line is written, its history " +
    "holds both. Refused (409) when the file cannot be reprocessed, its raw bytes differ, or another reprocess of " +
    "it is running; 422 when the processor now refuses the file (nothing changed).",
  tags: ["files"],
  params: idParams,
  response: {
    200: { $ref: "FileView#", description: "the file at its new generation" },
    ...errorResponses(ALL_COMMON, {
      400: BAD_ID,
      404: NO_FILE,
      409:
        "not reprocessable (SLUICE_ERR_NOT_REPROCESSABLE), raw bytes missing or changed (SLUICE_ERR_RAW_INTEGRITY), " +
        "or another reprocess of it in flight (SLUICE_ERR_REPROCESS_BUSY): nothing changed",
      422: "the processor refused the file under today's schema (its code: SLUICE_ERR_NO_VALID_ROWS, …): nothing changed",
    }),
  },
} as const;

export const historyRouteSchema = {
  summary: "A file's generations of derived outputs",
  description: "Generation 0 is what the ingest produced; each reprocess adds one. Oldest first.",
  tags: ["files"],
  params: idParams,
  response: {
    200: { $ref: "FileHistory#", description: "the file's generations" },
    ...errorResponses(ALL_COMMON, { 400: BAD_ID, 404: NO_FILE }),
  },
} as const;

function entry(generation: number, kind: string, recordedAt: string | null, p: ProcessingRecordV1 | null) {
  return {
    generation,
    kind,
    recorded_at: recordedAt,
    status: p?.status ?? null,
    schema: p?.schema ?? null,
    outputs: (p?.outputs ?? []).map((o) => ({
      kind: o.kind,
      path: o.path,
      ...(o.table ? { table: o.table } : {}),
      row_count: o.profile?.rowCount ?? null,
    })),
    aggregations: p?.aggregations ?? null,
    invalid_count: p?.invalidCount ?? null,
  };
}

const notFound = (id: string) => new ApiError("SLUICE_ERR_NOT_FOUND", `no file with id ${id.slice(0, 200)}`);

/** `POST /files/:id/reprocess` and `GET /files/:id/history` (issue 21). */
export function reprocessRoutes(deps: ApiDeps, run: ReprocessRouteDeps): FastifyPluginAsync {
  return async (app) => {
    app.post<{ Params: { id: string } }>("/files/:id/reprocess", { schema: reprocessSchema }, async (req) => {
      const out = await run.reprocess(req.params.id);
      if (!out.ok) {
        if (out.code === "SLUICE_ERR_NOT_FOUND") throw notFound(req.params.id);
        throw new ApiError(out.code, out.message);
      }
      const view = await fileDetail(deps, req.params.id);
      if (!view) throw notFound(req.params.id);
      return view;
    });
    app.get<{ Params: { id: string } }>("/files/:id/history", { schema: historyRouteSchema }, async (req) => {
      const rec = await deps.store.get(req.params.id);
      if (!rec) throw notFound(req.params.id);
      const kept = await deps.store.history(rec.ingestId);
      // Never reprocessed: its one generation is the row itself.
      const items =
        kept.length > 0
          ? kept.map((h) => entry(h.generation, h.kind, h.recordedAt, h.processing))
          : [entry(0, "ingested", rec.ingestedAt, rec.processing)];
      return { id: rec.ingestId, generation: rec.generation ?? 0, items };
    });
  };
}
