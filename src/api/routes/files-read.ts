import type { FastifyPluginAsync } from "fastify";
import type { ApiDeps } from "../deps.js";
import { ApiError, errorResponses } from "../errors.js";
import { fileDetail, invalidRowsOf, listFilePage } from "../file-listing.js";
import { API_STATUSES, type ApiStatus } from "../file-view.js";
import { ALL_COMMON, BAD_ID, idParams } from "./shared-schemas.js";

const nullable = (type: string) => ({ type: [type, "null"] });
const profileValue = { type: ["string", "number", "boolean", "null"] } as const;

export const invalidRowsPageSchema = {
  $id: "InvalidRowsPage",
  type: "object",
  description: "A page of invalid rows: `row` is the 1-based data-row number (header excluded)",
  required: ["total", "items", "next_offset"],
  properties: {
    total: { type: "integer", description: "invalid rows in all" },
    items: {
      type: "array",
      items: {
        type: "object",
        required: ["row", "error"],
        properties: { row: { type: "integer" }, error: { type: "string" } },
      },
    },
    next_offset: { ...nullable("integer"), description: "offset of the next page; null at the end" },
  },
} as const;

// The same page inside a file's view, where it may be null: inline, as a schema registered once has one $id.
const { $id: _pageId, ...invalidRowsPageBody } = invalidRowsPageSchema;

export const fileViewSchema = {
  $id: "FileView",
  type: "object",
  description: "A file and where it is",
  required: [
    "id",
    "name",
    "status",
    "upload_time",
    "size",
    "sha256",
    "warehouse_path",
    "processing_ms",
    "aggregations",
    "profile",
    "invalid_rows",
    "error",
    "duplicate_of",
    "archive_ingest_id",
    "member_path",
    "ingested_at",
    "updated_at",
    "generation",
    "requeued_from",
    "requeued_to",
  ],
  properties: {
    id: { type: "string", description: "ingest id (UUIDv7)" },
    name: { type: "string", description: "path relative to staging (or inside the archive for a member)" },
    status: { type: "string", enum: API_STATUSES },
    upload_time: { type: "string", description: "when sluice first saw the file (ISO 8601 UTC)" },
    size: { type: "integer" },
    sha256: nullable("string"),
    warehouse_path: { ...nullable("string"), description: "for a duplicate, the original's path" },
    processing_ms: nullable("number"),
    aggregations: { ...nullable("object"), additionalProperties: true },
    profile: {
      ...nullable("array"),
      description: "one entry per output processing wrote (Parquet tables, rejects); null when no processor ran",
      items: {
        type: "object",
        required: ["kind", "path", "row_count", "columns"],
        properties: {
          kind: { type: "string", enum: ["parquet", "rejects"] },
          path: { type: "string" },
          table: { type: "string", description: "for a SQL dump, the table" },
          row_count: nullable("integer"),
          columns: {
            type: "array",
            items: {
              type: "object",
              required: ["name", "type", "null_count", "min", "max"],
              properties: {
                name: { type: "string" },
                type: { type: "string" },
                null_count: { type: "integer" },
                min: profileValue,
                max: profileValue,
              },
            },
          },
        },
      },
    },
    invalid_rows: {
      ...invalidRowsPageBody,
      type: ["object", "null"],
      description:
        "GET /files/{id}: the first 100 invalid rows; GET /files: the count only (items empty). Null while waiting",
    },
    error: {
      ...nullable("object"),
      required: ["code", "message", "error_path"],
      properties: { code: { type: "string" }, message: { type: "string" }, error_path: nullable("string") },
    },
    duplicate_of: nullable("string"),
    archive_ingest_id: nullable("string"),
    member_path: nullable("string"),
    ingested_at: nullable("string"),
    updated_at: {
      type: "string",
      description: "when the file last changed state (for a failed file, when it was quarantined; ISO 8601 UTC)",
    },
    generation: {
      type: "integer",
      description: "which generation of derived outputs `profile` describes: 0 from the ingest, +1 per reprocess",
    },
    requeued_from: { ...nullable("string"), description: "a requeued file's new attempt: the failed file's id" },
    requeued_to: {
      ...nullable("string"),
      description: "a failed file that was requeued: the new attempt's id, once the pipeline recorded it",
    },
  },
} as const;

export const filePageSchema = {
  $id: "FilePage",
  type: "object",
  description: "A page of files, newest first",
  required: ["items", "next_cursor"],
  properties: {
    items: { type: "array", items: { $ref: "FileView#" } },
    next_cursor: { ...nullable("string"), description: "pass as `cursor` for the next page; null on the last" },
  },
} as const;

const NO_FILE = "no file and no waiting upload has this id (SLUICE_ERR_NOT_FOUND)";

export const listFilesSchema = {
  summary: "List files, newest first",
  description:
    "Waiting uploads first, then recorded files by discovery time and id, newest first. Pages are keyset cursors: " +
    "files recorded while paging appear on the first page, never shifting later pages.",
  tags: ["files"],
  querystring: {
    type: "object",
    properties: {
      status: { type: "string", enum: API_STATUSES },
      q: { type: "string", maxLength: 256, description: "case-insensitive substring of the name" },
      limit: { type: "integer", minimum: 1, maximum: 500, default: 50 },
      cursor: { type: "string", maxLength: 1024, description: "`next_cursor` of the previous page" },
    },
  },
  response: {
    200: { $ref: "FilePage#", description: "a page of files, newest first" },
    ...errorResponses(ALL_COMMON, { 400: "a bad `status`, `limit`, `q` or `cursor` (SLUICE_ERR_BAD_REQUEST)" }),
  },
} as const;

export const getFileSchema = {
  summary: "One file, with its first 100 invalid rows",
  description:
    "A recorded file, or an upload still waiting for the pipeline (`status: waiting`). The id is the one the " +
    "upload answered with, or any `id` of GET /files.",
  tags: ["files"],
  params: idParams,
  response: {
    200: { $ref: "FileView#", description: "the file, with its first 100 invalid rows" },
    ...errorResponses(ALL_COMMON, { 400: BAD_ID, 404: NO_FILE }),
  },
} as const;

export const invalidRowsSchema = {
  summary: "A page of a file's invalid rows, in row order",
  description: "The rows validation refused, with why; a file with none answers an empty page.",
  tags: ["files"],
  params: idParams,
  querystring: {
    type: "object",
    properties: {
      // A file has at most a few billion rows: past that an offset is a mistake, not a page (it was a 500 at 1e20).
      offset: { type: "integer", minimum: 0, maximum: 1_000_000_000_000, default: 0 },
      limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
    },
  },
  response: {
    200: { $ref: "InvalidRowsPage#", description: "a page of invalid rows" },
    ...errorResponses(ALL_COMMON, { 400: `${BAD_ID}; or a bad \`offset\` or \`limit\``, 404: NO_FILE }),
  },
} as const;

// A pruned file is gone from the state like one never recorded: the message says both (decided in issue 21).
const notFound = (id: string) =>
  new ApiError(
    "SLUICE_ERR_NOT_FOUND",
    `no file with id ${id.slice(0, 200)}: never recorded, or pruned (sluice prune deletes finished files older than --older-than)`,
  );

/** The read side of `/api/v1/files`. */
export function filesReadRoutes(deps: ApiDeps): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: { status?: ApiStatus; q?: string; limit: number; cursor?: string } }>(
      "/files",
      { schema: listFilesSchema },
      async (req) => listFilePage(deps, req.query),
    );
    app.get<{ Params: { id: string } }>("/files/:id", { schema: getFileSchema }, async (req) => {
      const view = await fileDetail(deps, req.params.id);
      if (!view) throw notFound(req.params.id);
      return view;
    });
    app.get<{ Params: { id: string }; Querystring: { offset: number; limit: number } }>(
      "/files/:id/invalid-rows",
      { schema: invalidRowsSchema },
      async (req) => {
        const page = await invalidRowsOf(deps, req.params.id, req.query.offset, req.query.limit);
        if (!page) throw notFound(req.params.id);
        return page;
      },
    );
  };
}
