import { isIP } from "node:net";
import { SluiceError } from "../core/errors.js";
import { coerce, type Source } from "./resolve.js";

/** `sluice serve`'s own options, on top of every `sluice run` option; same layering (flag > env > .env > default). */
export interface ServeOptionSpec {
  key:
    | "listen"
    | "apiToken"
    | "insecureNoAuth"
    | "maxUploadBytes"
    | "headersTimeout"
    | "bodyIdleTimeout"
    | "uploadTimeout"
    | "maxUploads"
    | "maxUploadsPerClient";
  flag: string;
  env: string;
  kind: "string" | "number" | "boolean";
  default: string | number | boolean;
  help: string;
}

export const SERVE_OPTIONS: readonly ServeOptionSpec[] = [
  {
    key: "listen",
    flag: "--listen <host:port>",
    env: "SLUICE_LISTEN",
    kind: "string",
    default: "127.0.0.1:8080",
    help: "address of the HTTP API, dashboard and /metrics",
  },
  {
    key: "apiToken",
    flag: "--api-token <token>",
    env: "SLUICE_API_TOKEN",
    kind: "string",
    default: "",
    help: "require `Authorization: Bearer <token>` on /api (prefer the environment: a flag shows in process listings)",
  },
  {
    key: "insecureNoAuth",
    flag: "--insecure-no-auth",
    env: "SLUICE_INSECURE_NO_AUTH",
    kind: "boolean",
    default: false,
    help: "allow listening on a non-loopback address without a token",
  },
  {
    key: "maxUploadBytes",
    flag: "--max-upload-bytes <n>",
    env: "SLUICE_MAX_UPLOAD_BYTES",
    kind: "number",
    default: 10737418240,
    help: "largest file accepted by POST /api/v1/files (413 above)",
  },
  {
    key: "headersTimeout",
    flag: "--headers-timeout <seconds>",
    env: "SLUICE_HEADERS_TIMEOUT",
    kind: "number",
    default: 30,
    help: "a connection whose request headers are not all in by then is answered 408 and closed",
  },
  {
    key: "bodyIdleTimeout",
    flag: "--body-idle-timeout <seconds>",
    env: "SLUICE_BODY_IDLE_TIMEOUT",
    kind: "number",
    default: 30,
    help: "an upload whose body sends no byte for this long is answered 408 and closed; nothing of it is ingested",
  },
  {
    key: "uploadTimeout",
    flag: "--upload-timeout <seconds>",
    env: "SLUICE_UPLOAD_TIMEOUT",
    kind: "number",
    default: 3600,
    help: "longest time to receive a whole request (headers and body); past it: 408, closed, nothing ingested",
  },
  {
    key: "maxUploads",
    flag: "--max-uploads <n>",
    env: "SLUICE_MAX_UPLOADS",
    kind: "number",
    default: 64,
    help: "uploads received at once, all clients together; more get 503 with Retry-After",
  },
  {
    key: "maxUploadsPerClient",
    flag: "--max-uploads-per-client <n>",
    env: "SLUICE_MAX_UPLOADS_PER_CLIENT",
    kind: "number",
    default: 8,
    help: "uploads received at once from one client address; more get 503 with Retry-After",
  },
];

/** The request limits of `sluice serve` (issue 18): each bounds how long or how many uploads can hold a socket and a temp file. */
export interface HttpLimits {
  headersTimeoutMs: number;
  bodyIdleTimeoutMs: number;
  uploadTimeoutMs: number;
  maxUploads: number;
  maxUploadsPerClient: number;
}

export interface ServeConfig {
  host: string;
  port: number;
  apiToken: string | null;
  maxUploadBytes: number;
  limits: HttpLimits;
}

/** A positive number of seconds (fractions allowed: tests use short ones) as milliseconds. */
function seconds(v: unknown, flag: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 86_400 * 7) {
    throw new SluiceError("SLUICE_ERR_CONFIG", `${flag} must be a number of seconds above 0 and at most 604800`);
  }
  return Math.max(1, Math.round(n * 1000));
}

function count(v: unknown, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new SluiceError("SLUICE_ERR_CONFIG", `${flag} must be a whole number of at least 1`);
  return n;
}

function resolveLimits(v: Record<string, unknown>): HttpLimits {
  const limits: HttpLimits = {
    headersTimeoutMs: seconds(v.headersTimeout, "--headers-timeout"),
    bodyIdleTimeoutMs: seconds(v.bodyIdleTimeout, "--body-idle-timeout"),
    uploadTimeoutMs: seconds(v.uploadTimeout, "--upload-timeout"),
    maxUploads: count(v.maxUploads, "--max-uploads"),
    maxUploadsPerClient: count(v.maxUploadsPerClient, "--max-uploads-per-client"),
  };
  // Node refuses a headers timeout longer than the request's, which includes the headers.
  if (limits.headersTimeoutMs > limits.uploadTimeoutMs) {
    throw new SluiceError("SLUICE_ERR_CONFIG", "--headers-timeout must not be longer than --upload-timeout");
  }
  return limits;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

/** Resolves and checks the serve options; a non-loopback address needs a token or `--insecure-no-auth`. */
export function resolveServeConfig(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  dotEnv: Record<string, string>,
): ServeConfig {
  const v: Record<string, unknown> = {};
  for (const spec of SERVE_OPTIONS) {
    const flagName = spec.flag.split(" ")[0] as string;
    let src: Source;
    if (flags[spec.key] !== undefined) src = { value: flags[spec.key], from: flagName };
    else if (env[spec.env] !== undefined) src = { value: env[spec.env], from: spec.env };
    else if (dotEnv[spec.env] !== undefined) src = { value: dotEnv[spec.env], from: `.env ${spec.env}` };
    else src = { value: spec.default, from: "default" };
    v[spec.key] = coerce(spec, src);
  }
  const listen = String(v.listen);
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(listen);
  const host = m?.[1]?.replace(/^\[|\]$/g, "") ?? "";
  const port = Number(m?.[2]);
  if (!m || !(port >= 0 && port <= 65535) || (host !== "localhost" && !isIP(host) && !/^[a-z0-9.-]+$/i.test(host))) {
    throw new SluiceError("SLUICE_ERR_CONFIG", `--listen / SLUICE_LISTEN: "${listen}" is not HOST:PORT`);
  }
  const maxUploadBytes = Number(v.maxUploadBytes);
  if (!Number.isInteger(maxUploadBytes) || maxUploadBytes < 1) {
    throw new SluiceError("SLUICE_ERR_CONFIG", "--max-upload-bytes must be a positive whole number of bytes");
  }
  const apiToken = String(v.apiToken) || null;
  if (!apiToken && !isLoopback(host) && v.insecureNoAuth !== true) {
    throw new SluiceError(
      "SLUICE_ERR_CONFIG",
      `--listen ${listen} is reachable from other hosts: set SLUICE_API_TOKEN (or --api-token), or pass --insecure-no-auth`,
    );
  }
  return { host, port, apiToken, maxUploadBytes, limits: resolveLimits(v) };
}
