import { isIP } from "node:net";
import { SluiceError } from "../core/errors.js";
import { splitHost } from "../core/host-name.js";
import { gatherLayers, type Layers, resolveOptions } from "./layers.js";
import type { Options } from "./schema.js";
import { SERVE_OPTIONS } from "./schema-serve.js";

/** What `sluice serve` reads on top of the run options: the HTTP API's, declared in schema-serve.ts. */
type ServeKey = keyof typeof SERVE_OPTIONS;
const SERVE_KEYS = Object.keys(SERVE_OPTIONS) as ServeKey[];

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
  /** Old names in use, for the log (as RunConfig's). */
  warnings: readonly string[];
}

function resolveLimits(v: Pick<Options, ServeKey>): HttpLimits {
  const limits: HttpLimits = {
    headersTimeoutMs: Math.max(1, Math.round(v.headersTimeout)),
    bodyIdleTimeoutMs: Math.max(1, Math.round(v.bodyIdleTimeout)),
    uploadTimeoutMs: Math.max(1, Math.round(v.uploadTimeout)),
    maxUploads: v.maxUploads,
    maxUploadsPerClient: v.maxUploadsPerClient,
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
  cwd: string = process.cwd(),
): ServeConfig {
  return serveConfigFrom(gatherLayers(flags, env, dotEnv, cwd));
}

export function serveConfigFrom(layers: Layers): ServeConfig {
  const { values: v, from, warnings } = resolveOptions(SERVE_KEYS, layers);
  const listen = String(v.listen);
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(listen);
  const host = m?.[1]?.replace(/^\[|\]$/g, "") ?? "";
  const port = Number(m?.[2]);
  if (!m || !(port >= 0 && port <= 65535) || (host !== "localhost" && !isIP(host) && !/^[a-z0-9.-]+$/i.test(host))) {
    throw new SluiceError("SLUICE_ERR_CONFIG", `${from.listen}: "${listen}" is not HOST:PORT`);
  }
  const apiToken = v.apiToken || null;
  // A token of spaces guards nothing and locks everyone out (the Authorization header cannot carry it).
  if (apiToken !== null && (apiToken.length < MIN_TOKEN_LENGTH || /\s/.test(apiToken))) {
    throw new SluiceError(
      "SLUICE_ERR_CONFIG",
      `${from.apiToken}: a token needs ${MIN_TOKEN_LENGTH} characters or more and no whitespace (got ${apiToken.length} characters${/\s/.test(apiToken) ? " with whitespace" : ""}); generate one with \`openssl rand -hex 32\``,
    );
  }
  const allowedHosts: string[] = [];
  for (const entry of v.allowedHosts) {
    const h = splitHost(entry);
    if (!h || h.port !== null || !(isIP(h.name) || /^[a-z0-9.-]+$/.test(h.name))) {
      throw new SluiceError(
        "SLUICE_ERR_CONFIG",
        `${from.allowedHosts}: "${entry}" is not a host name (give a name or address alone, IPv6 in brackets, no port or scheme)`,
      );
    }
    allowedHosts.push(h.name);
  }
  return {
    host,
    port,
    apiToken,
    insecureNoAuth: v.insecureNoAuth,
    maxUploadBytes: v.maxUploadBytes,
    allowedHosts,
    limits: resolveLimits(v),
    warnings,
  };
}
