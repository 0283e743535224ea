import { isIP } from "node:net";
import { SluiceError } from "../core/errors.js";
import { splitHost } from "../core/host-name.js";
import { coerce, type Source } from "./resolve.js";

/** `sluice serve`'s own options, on top of every `sluice run` option; same layering (flag > env > .env > default). */
export interface ServeOptionSpec {
  /** The name commander gives the flag (`--allowed-host` → allowedHost). */
  key:
    | "listen"
    | "apiToken"
    | "insecureNoAuth"
    | "maxUploadBytes"
    | "allowedHost"
    | "headersTimeout"
    | "bodyIdleTimeout"
    | "uploadTimeout"
    | "maxUploads"
    | "maxUploadsPerClient";
  flag: string;
  env: string;
  /** `list`: comma-separated, and the flag may be repeated. */
  kind: "string" | "number" | "boolean" | "list";
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
    help: "require `Authorization: Bearer <token>` on /api: 16 characters or more, no whitespace (prefer the environment: a flag shows in process listings)",
  },
  {
    key: "allowedHost",
    flag: "--allowed-host <name>",
    env: "SLUICE_ALLOWED_HOSTS",
    kind: "list",
    default: "",
    help: "another name the Host header may carry (a proxy's or port-mapped name); repeat or separate with commas",
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
  insecureNoAuth: boolean;
  maxUploadBytes: number;
  /** Lower-case names, without port. */
  allowedHosts: string[];
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

/** Shorter than this, a token can be guessed or was set by mistake (`" "`, `x`). */
export const MIN_TOKEN_LENGTH = 16;

/**
 * Resolves and checks the serve options. Whether `--listen` is reachable from
 * other hosts depends on what its name resolves to: `checkListen`
 * (listen-check.ts) decides that, asynchronously, at start.
 */
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
    // A repeated flag arrives as an array (main.ts collects it); each entry may still hold commas.
    const value = Array.isArray(src.value) ? src.value.join(",") : src.value;
    v[spec.key] = coerce(spec, { ...src, value });
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
  // A token of spaces guards nothing and locks everyone out (the Authorization header cannot carry it).
  if (apiToken !== null && (apiToken.length < MIN_TOKEN_LENGTH || /\s/.test(apiToken))) {
    throw new SluiceError(
      "SLUICE_ERR_CONFIG",
      `--api-token / SLUICE_API_TOKEN: a token needs ${MIN_TOKEN_LENGTH} characters or more and no whitespace (got ${apiToken.length} characters${/\s/.test(apiToken) ? " with whitespace" : ""}); generate one with \`openssl rand -hex 32\``,
    );
  }
  const allowedHosts: string[] = [];
  for (const entry of v.allowedHost as string[]) {
    const h = splitHost(entry);
    if (!h || h.port !== null || !(isIP(h.name) || /^[a-z0-9.-]+$/.test(h.name))) {
      throw new SluiceError(
        "SLUICE_ERR_CONFIG",
        `--allowed-host / SLUICE_ALLOWED_HOSTS: "${entry}" is not a host name (give a name or address alone, IPv6 in brackets, no port or scheme)`,
      );
    }
    allowedHosts.push(h.name);
  }
  return {
    host,
    port,
    apiToken,
    insecureNoAuth: v.insecureNoAuth === true,
    maxUploadBytes,
    allowedHosts,
    limits: resolveLimits(v),
  };
}
