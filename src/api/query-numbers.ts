import type { FastifyRequest } from "fastify";
import { ApiError } from "./errors.js";

/**
 * Ajv's type coercion reads a query value with `Number()`, so `1e400` and
 * `Infinity` became Infinity, `1e20` a whole number past any page, and `0x10`
 * sixteen: the first two reached SQLite and answered 500. Every integer
 * parameter a route's querystring schema declares must be written as plain
 * decimal digits (at most 15, so it is exact as a double); the schema's own
 * minimum and maximum then bound it. Runs as a preValidation hook, before the
 * coercion, on the raw strings.
 */
export async function decimalIntegersOnly(req: FastifyRequest): Promise<void> {
  const schema = req.routeOptions.schema?.querystring as
    | { properties?: Record<string, { type?: unknown }> }
    | undefined;
  if (!schema?.properties) return;
  const query = req.query as Record<string, unknown>;
  for (const [name, prop] of Object.entries(schema.properties)) {
    if (prop.type !== "integer" || query[name] === undefined) continue;
    const values = Array.isArray(query[name]) ? (query[name] as unknown[]) : [query[name]];
    for (const v of values) {
      if (typeof v === "string" && !/^[0-9]{1,15}$/.test(v)) {
        throw new ApiError(
          "SLUICE_ERR_BAD_REQUEST",
          `querystring/${name} must be a whole number in decimal digits within the documented range, not "${v.slice(0, 40)}"`,
        );
      }
    }
  }
}
