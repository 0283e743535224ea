import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ERROR_CATALOG, type ErrorCode, isErrorCode, withHint } from "../core/errors.js";

/** The one shape of every error the API answers with. */
export interface ErrorBody {
  /** Short title, e.g. "Not found". */
  error: string;
  code: ErrorCode;
  /** What went wrong and what to do about it. */
  message: string;
  statusCode: number;
}

/** Registered once on the app (`Error` in the OpenAPI document); routes refer to it through `errorResponses`. */
export const errorResponseSchema = {
  $id: "Error",
  type: "object",
  description: "Every error: a short title, a stable code (docs/errors.md), what to do, and the HTTP status",
  required: ["error", "code", "message", "statusCode"],
  properties: {
    error: { type: "string", description: "short title" },
    code: { type: "string", pattern: "^SLUICE_ERR_[A-Z_]+$" },
    message: { type: "string", description: "what went wrong and what to do" },
    statusCode: { type: "integer" },
  },
  additionalProperties: false,
} as const;

/** What the statuses every route shares mean; a route adds its own (404, 413, ...) next to them. */
export const COMMON_ERRORS = {
  400: "a parameter or the URL does not match the route (SLUICE_ERR_BAD_REQUEST); the message names it",
  401: "missing or wrong bearer token, when sluice serve has one (SLUICE_ERR_UNAUTHORIZED)",
  421: "the Host header does not name this server (SLUICE_ERR_HOST_NOT_ALLOWED)",
  500: "an unexpected error (SLUICE_ERR_INTERNAL); the detail is in sluice's log (event api_error)",
  503: "the state store cannot be read right now (SLUICE_ERR_STATE_STORE); try again shortly",
} as const;

type ErrorResponse = { $ref: "Error#"; description: string };

/**
 * Response schemas for a route's error statuses, in the error shape: the
 * `common` ones with their usual meaning, and `own` statuses (or a sharper
 * meaning of a common one) for this route. The route serializes its errors
 * with them and the OpenAPI document shows them, so the two cannot disagree.
 */
export function errorResponses(
  common: readonly (keyof typeof COMMON_ERRORS)[],
  own: Record<number, string> = {},
): Record<number, ErrorResponse> {
  const out: Record<number, ErrorResponse> = {};
  for (const status of common) out[status] = { $ref: "Error#", description: COMMON_ERRORS[status] };
  for (const [status, description] of Object.entries(own)) out[Number(status)] = { $ref: "Error#", description };
  return out;
}

/** Thrown by routes; the app's error handler renders it in the error shape. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  /** The detail given by the thrower, if any (the catalog hint is added when rendered). */
  readonly detail: string | undefined;
  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ?? ERROR_CATALOG[code].hint, options);
    this.name = "ApiError";
    this.code = code;
    this.statusCode = ERROR_CATALOG[code].httpStatus;
    this.detail = detail;
  }
}

/** The body for `code`: the detail, then the catalog's hint in parentheses (as in `.error.json` reasons). */
export function errorBody(code: ErrorCode, detail?: string): ErrorBody {
  const entry = ERROR_CATALOG[code];
  return {
    error: entry.title,
    code,
    message: withHint(code, detail),
    statusCode: entry.httpStatus,
  };
}

/** Answers with the error shape; `return sendError(...)` from a handler or hook. */
export function sendError(reply: FastifyReply, code: ErrorCode, message?: string): FastifyReply {
  const body = errorBody(code, message);
  return reply.code(body.statusCode).type("application/json; charset=utf-8").send(body);
}

/**
 * Writes an error answer straight to the socket, for a request Fastify has no
 * reply for (a timeout noticed by Node or by the socket's timer); the caller
 * closes the socket after it.
 */
export function writeRawError(socket: Duplex, code: ErrorCode, detail?: string): void {
  const body = JSON.stringify(errorBody(code, detail));
  const status = ERROR_CATALOG[code].httpStatus;
  socket.write(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/**
 * Fastify's clientErrorHandler: Node's header and request timeouts
 * (`--headers-timeout`, `--upload-timeout`) and unparseable HTTP answer in the
 * error shape, then the socket is closed, as Fastify's own handler does.
 */
export function handleClientError(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const timeout = err.code === "ERR_HTTP_REQUEST_TIMEOUT";
  if (timeout) {
    const remote = (socket as Duplex & { remoteAddress?: string }).remoteAddress;
    this.log.warn({ event: "request_timeout", client: remote }, "request headers or body not received in time: closed");
  }
  // An answer already begun (a 413 sent while the body still comes) must not get a second status line inside it.
  const pending = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !pending?.headersSent) {
    if (timeout) writeRawError(socket, "SLUICE_ERR_REQUEST_TIMEOUT");
    else
      writeRawError(
        socket,
        "SLUICE_ERR_BAD_REQUEST",
        err.code === "HPE_HEADER_OVERFLOW" ? "the request headers are too large" : "the request is not valid HTTP/1.1",
      );
  }
  socket.destroy();
}

// Fastify's and plugins' own errors carry only a status: this picks the catalog entry that says what to do.
const BY_STATUS: Record<number, ErrorCode> = {
  401: "SLUICE_ERR_UNAUTHORIZED",
  404: "SLUICE_ERR_NOT_FOUND",
  406: "SLUICE_ERR_UNSUPPORTED_MEDIA_TYPE",
  413: "SLUICE_ERR_PAYLOAD_TOO_LARGE",
  415: "SLUICE_ERR_UNSUPPORTED_MEDIA_TYPE",
};

function classify(err: FastifyError | Error): { code: ErrorCode; detail?: string } {
  if (err instanceof ApiError) return { code: err.code, ...(err.detail ? { detail: err.detail } : {}) };
  const e = err as Partial<FastifyError>;
  if (e.validation) return { code: "SLUICE_ERR_BAD_REQUEST", detail: err.message };
  // A lower layer's SluiceError keeps its code (a 503 tells the client to come back later).
  if (isErrorCode(e.code)) return { code: e.code, detail: err.message };
  const status = e.statusCode ?? 500;
  if (status >= 500) return { code: "SLUICE_ERR_INTERNAL" };
  return { code: BY_STATUS[status] ?? "SLUICE_ERR_BAD_REQUEST", detail: err.message };
}

/** The app's error handler: every thrown error, validation failure and body/content-type error ends here. */
export function handleError(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { code, detail } = classify(err);
  if (ERROR_CATALOG[code].httpStatus < 500) return sendError(reply, code, detail);
  request.log.error(
    { event: "api_error", err, method: request.method, route: request.routeOptions.url ?? request.url },
    "api request failed",
  );
  // A server-side failure's text (paths, SQL) is for the log: the client gets the code and its hint only.
  if (code !== "SLUICE_ERR_INTERNAL") return sendError(reply, code);
  // Not the catalog hint, which speaks of files moved to the error directory: nothing was moved here.
  const body: ErrorBody = {
    ...errorBody(code),
    message: "unexpected error while answering the request; it is in sluice's log (event api_error): please report it",
  };
  return reply.code(body.statusCode).type("application/json; charset=utf-8").send(body);
}

/** Unknown routes (and unknown methods on known paths) answer 404 in the error shape. */
export function handleNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = (request.url.split("?")[0] ?? "").slice(0, 200);
  return sendError(reply, "SLUICE_ERR_NOT_FOUND", `no route ${request.method} ${path}`);
}
