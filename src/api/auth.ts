import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { sendError } from "./errors.js";

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/**
 * The onRequest hook that guards everything under `/api` when an API token is
 * set: `Authorization: Bearer <token>`, or 401 in the error shape.
 *
 * `/healthz`, `/readyz` and `/metrics` are deliberately outside `/api` and
 * open: probes and Prometheus scrapers carry no token, and those routes reveal
 * no file names or contents. Bind to a trusted interface, or put a proxy in
 * front, if even counters must stay private.
 */
export function bearerAuth(
  token: string,
): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined> {
  // Comparing fixed-length digests: timingSafeEqual needs equal lengths, and the digest hides the token's length too.
  const expected = digest(token);
  return async (request, reply) => {
    const header = request.headers.authorization;
    const [scheme, presented, ...rest] = (header ?? "").trim().split(/\s+/);
    const wellFormed = scheme?.toLowerCase() === "bearer" && presented !== undefined && rest.length === 0;
    if (wellFormed && timingSafeEqual(digest(presented), expected)) return undefined;
    reply.header("www-authenticate", header ? 'Bearer realm="sluice", error="invalid_token"' : 'Bearer realm="sluice"');
    const detail = header ? "the bearer token is not the API token" : "no Authorization header";
    // Returning the reply is how an async hook tells Fastify the request is answered and the route must not run.
    return sendError(reply, "SLUICE_ERR_UNAUTHORIZED", detail);
  };
}
