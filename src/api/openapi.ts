import { readFileSync } from "node:fs";
import type { FastifyPluginAsync } from "fastify";
import { errorResponseSchema } from "./errors.js";
import { API_STATUSES } from "./file-view.js";
import {
  filePageSchema,
  fileViewSchema,
  getFileSchema,
  invalidRowsPageSchema,
  invalidRowsSchema,
  listFilesSchema,
} from "./routes/files-read.js";
import { healthzSchema, readyzSchema } from "./routes/health.js";
import { metricsSchema } from "./routes/metrics.js";
import { statsSchema } from "./routes/stats.js";

type Json = unknown;
type Schema = Record<string, Json>;

/** What `POST /api/v1/files` answers: one entry per file part received. */
export const uploadAcceptedSchema = {
  type: "object",
  description: "The files were received and handed to the pipeline; follow each with GET /files/{id}",
  required: ["files"],
  properties: {
    files: {
      type: "array",
      items: {
        type: "object",
        required: ["id", "name", "status"],
        properties: {
          id: { type: "string" },
          name: { type: "string" },
          status: { type: "string", enum: API_STATUSES },
        },
      },
    },
  },
} as const;

// The upload route is not built here, so its contract is written out for the document (the route answers to it).
const uploadOperation = {
  summary: "Upload one or more files (all or nothing)",
  tags: ["files"],
  parameters: [
    {
      name: "X-Sluice-Request",
      in: "header",
      required: true,
      description: "any value; required on every POST, as a cross-site form post cannot send it (403 without)",
      schema: { type: "string" },
    },
  ],
  requestBody: {
    required: true,
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
  responses: {
    202: "accepted",
    400: "no `file` part (SLUICE_ERR_MISSING_FILE), or a `file` field that is not a file (SLUICE_ERR_INVALID_PARAMETER_TYPE)",
    401: "missing or wrong bearer token",
    403: "no X-Sluice-Request header (SLUICE_ERR_REQUEST_HEADER_MISSING), or a cross-site request (SLUICE_ERR_CROSS_SITE)",
    408: "headers or body too slow (SLUICE_ERR_REQUEST_TIMEOUT); no file of the request is ingested",
    413: "a file, or the count of files or parts, exceeds the limit; no file of the request is ingested",
    421: "the Host header does not name this server (SLUICE_ERR_HOST_NOT_ALLOWED)",
    503: "too many uploads in flight from this client or in all (SLUICE_ERR_TOO_MANY_UPLOADS); see Retry-After",
  },
} as const;

/** Named schemas: wherever the same object appears inside a route's schema, the document refers to it. */
const COMPONENTS: [string, Schema][] = [
  ["Error", errorResponseSchema],
  ["FileView", fileViewSchema],
  ["FilePage", filePageSchema],
  ["InvalidRowsPage", invalidRowsPageSchema],
  ["UploadAccepted", uploadAcceptedSchema],
];

function refs(schema: Json, self?: Json): Json {
  if (Array.isArray(schema)) return schema.map((s) => refs(s));
  if (typeof schema !== "object" || schema === null) return schema;
  const named = COMPONENTS.find(([, s]) => s === schema && s !== self);
  if (named) return { $ref: `#/components/schemas/${named[0]}` };
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, refs(v)]));
}

interface RouteSchema {
  summary: string;
  description?: string;
  tags?: readonly string[];
  params?: { properties: Record<string, Json>; required?: readonly string[] };
  querystring?: { properties: Record<string, Json>; required?: readonly string[] };
  response?: Record<number, Json>;
}

function parameters(where: "path" | "query", s?: RouteSchema["params"]) {
  if (!s) return [];
  return Object.entries(s.properties).map(([name, schema]) => {
    const { description, ...rest } = schema as { description?: string };
    return {
      name,
      in: where,
      required: where === "path" || (s.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: refs(rest),
    };
  });
}

const STATUS_TEXT: Record<number, string> = {
  400: "bad parameter (SLUICE_ERR_BAD_REQUEST)",
  401: "missing or wrong bearer token (SLUICE_ERR_UNAUTHORIZED)",
  404: "no such file (SLUICE_ERR_NOT_FOUND)",
  503: "not ready",
};

function operation(s: RouteSchema, open: boolean) {
  const responses = Object.fromEntries(
    Object.entries(s.response ?? {}).map(([code, schema]) => [
      code,
      {
        description:
          Number(code) < 300
            ? ((schema as { description?: string }).description ?? "OK")
            : (STATUS_TEXT[Number(code)] ?? ""),
        content: { "application/json": { schema: refs(schema) } },
      },
    ]),
  );
  return {
    summary: s.summary,
    ...(s.description ? { description: s.description } : {}),
    ...(s.tags ? { tags: s.tags } : {}),
    ...(open ? { security: [] } : {}),
    parameters: [...parameters("path", s.params), ...parameters("query", s.querystring)],
    responses,
  };
}

function uploadOp() {
  const { responses, ...rest } = uploadOperation;
  const out: Record<string, Json> = {};
  for (const [code, description] of Object.entries(responses)) {
    const schema = code === "202" ? uploadAcceptedSchema : errorResponseSchema;
    out[code] = { description, content: { "application/json": { schema: refs(schema) } } };
  }
  return { ...rest, responses: out };
}

export const openApiSchema = {
  summary: "This document (OpenAPI 3.1)",
  tags: ["operations"],
  response: { 200: { type: "object", additionalProperties: true, description: "OpenAPI 3.1 document" } },
} as const;

// The same relative path from src/api and from dist/api.
const packageVersion = () =>
  (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** The API described from the same JSON schemas the routes validate and serialize with. */
export function buildOpenApi(version = packageVersion()): Record<string, Json> {
  const metricsOp = {
    ...operation(metricsSchema, true),
    responses: {
      200: {
        description: "Prometheus text exposition format",
        content: { "text/plain": { schema: { type: "string" } } },
      },
    },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "sluice",
      version,
      description:
        "Exactly-once file ingestion. Every error has the shape of the Error schema; codes are in docs/errors.md.",
    },
    security: [{ bearerAuth: [] }],
    paths: {
      "/api/v1/files": { get: operation(listFilesSchema, false), post: uploadOp() },
      "/api/v1/files/{id}": { get: operation(getFileSchema, false) },
      "/api/v1/files/{id}/invalid-rows": { get: operation(invalidRowsSchema, false) },
      "/api/v1/stats": { get: operation(statsSchema, false) },
      "/api/v1/openapi.json": { get: operation(openApiSchema, false) },
      "/healthz": { get: operation(healthzSchema, true) },
      "/readyz": { get: operation(readyzSchema, true) },
      "/metrics": { get: metricsOp },
    },
    components: {
      schemas: Object.fromEntries(COMPONENTS.map(([name, s]) => [name, refs(s, s)])),
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          description:
            "Required on /api routes when sluice serve has an API token; /healthz, /readyz, /metrics are open",
        },
      },
    },
  };
}

/** `GET /openapi.json` (under /api/v1). */
export function openApiRoutes(): FastifyPluginAsync {
  const doc = buildOpenApi();
  return async (app) => {
    app.get("/openapi.json", { schema: openApiSchema }, async () => doc);
  };
}
