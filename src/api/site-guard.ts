import type { FastifyReply, FastifyRequest } from "fastify";
import { splitHost } from "../core/host-name.js";
import { sendError } from "./errors.js";

/**
 * The header every state-changing request (all of them are under `/api`) must carry. A browser sends
 * a non-simple header only after a CORS preflight, which sluice never grants,
 * so a page on another site cannot send it: a no-cors form post or a simple
 * `fetch` from a hostile page is refused even with no token set.
 */
export const REQUEST_HEADER = "x-sluice-request";

/** Routes any `Host` may reach: load balancers and kubelets probe by the pod's IP, Prometheus by a target name. */
export const ANY_HOST_ROUTES: ReadonlySet<string> = new Set(["/healthz", "/readyz", "/metrics"]);

/** Names the Host header may carry, besides the address each connection arrived on. */
export interface HostRule {
  /** The `--listen` host as given (a name or an address literal). */
  listenHost: string;
  /** Every address `--listen` resolved to is loopback: `localhost`, `127.0.0.1` and `[::1]` are accepted too. */
  loopback: boolean;
  /** `--allowed-host` names (a reverse proxy's or a port-mapped name), accepted with any port. */
  allowed: readonly string[];
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "::1"];

/** Does `host` (the request's Host header) name this server? */
export function hostAllowed(
  rule: HostRule,
  host: string | undefined,
  localAddress: string,
  localPort: number,
): boolean {
  const h = host === undefined ? null : splitHost(host);
  if (!h) return false;
  if (rule.allowed.includes(h.name)) return true;
  // Our own names must come with the port the connection was accepted on (an absent port means 80 over http).
  if ((h.port ?? 80) !== localPort) return false;
  const own = [rule.listenHost.toLowerCase(), localAddress.replace(/^::ffff:(?=\d+\.)/, "")];
  if (rule.loopback) own.push(...LOOPBACK_NAMES);
  return own.includes(h.name);
}

/** Is `origin` (an Origin header) this request's own host, over http or https (a TLS proxy in front)? */
function sameOrigin(origin: string, host: string): boolean {
  try {
    const o = new URL(origin);
    if (o.protocol !== "http:" && o.protocol !== "https:") return false;
    return o.host === new URL(`${o.protocol}//${host}`).host;
  } catch {
    return false;
  }
}

/**
 * The onRequest hook in front of every route, token or not:
 * 1. `Host` must name this server (`421`), except on the probe routes: a
 *    DNS-rebinding page reaches sluice under the attacker's own name, which
 *    is refused.
 * 2. A state-changing request (any method but GET, HEAD, OPTIONS) is refused
 *    (`403`) when its `Origin` is another origin (or `null`) or its
 *    `Sec-Fetch-Site` says `cross-site`/`same-site`.
 * 3. A state-changing request must carry {@link REQUEST_HEADER}
 *    (`403`), which curl and the CLI send freely and a cross-site page cannot.
 */
export function siteGuard(
  rule: HostRule | null,
): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined> {
  return async (request, reply) => {
    const host = request.headers.host;
    if (rule && !ANY_HOST_ROUTES.has(request.routeOptions.url ?? "")) {
      const { localAddress = "", localPort = 0 } = request.socket;
      if (!hostAllowed(rule, host, localAddress, localPort)) {
        const shown = JSON.stringify((host ?? "").slice(0, 100));
        return sendError(reply, "SLUICE_ERR_HOST_NOT_ALLOWED", `Host ${shown} does not name this server`);
      }
    }
    if (SAFE_METHODS.has(request.method)) return undefined;
    const origin = request.headers.origin;
    if (origin !== undefined && !sameOrigin(origin, host ?? "")) {
      const shown = JSON.stringify(origin.slice(0, 100));
      return sendError(reply, "SLUICE_ERR_CROSS_SITE", `a ${request.method} from origin ${shown} is refused`);
    }
    const site = request.headers["sec-fetch-site"];
    if (site === "cross-site" || site === "same-site") {
      return sendError(reply, "SLUICE_ERR_CROSS_SITE", `a ${request.method} sent with Sec-Fetch-Site: ${site}`);
    }
    // Every state-changing route is under /api; asking it everywhere leaves no path to forget.
    if (request.headers[REQUEST_HEADER] === undefined) {
      return sendError(reply, "SLUICE_ERR_REQUEST_HEADER_MISSING", `a ${request.method} without X-Sluice-Request`);
    }
    return undefined;
  };
}
