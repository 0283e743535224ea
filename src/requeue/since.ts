import { parseDuration } from "../config/units.js";
import { SluiceError } from "../core/errors.js";

/**
 * `--since`: an ISO-8601 instant, or an age (`24h`, `7d`: that long before `nowMs`), as the ISO-8601 instant the
 * state's times are compared with; null when not given.
 */
export function sinceInstant(text: string, nowMs: number): string | null {
  if (!text) return null;
  if (/^\d+(\.\d+)?(ms|s|m|min|h|d)$/.test(text)) {
    const ms = parseDuration(text, "s");
    if (ms !== null) return new Date(nowMs - ms).toISOString();
  }
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new SluiceError("SLUICE_ERR_CONFIG", `--since ${text}: an ISO-8601 time or an age`);
  return new Date(at).toISOString();
}
