import { parseDuration } from "../../config/units.js";
import { SluiceError } from "../../core/errors.js";
import type { FileRecord } from "../../core/file-record.js";
import type { StateStore } from "../../store/state-store.js";

/** `--since`: an ISO-8601 instant, or an age (`24h`, `7d`: that long before `now`); epoch ms. */
export function sinceInstant(text: string, now = Date.now()): number {
  if (/^\d+(ms|s|m|h|d)$/.test(text)) {
    const ms = parseDuration(text, "s");
    if (ms !== null) return now - ms;
  }
  const t = Date.parse(text);
  if (Number.isNaN(t)) {
    throw new SluiceError("SLUICE_ERR_CONFIG", `--since ${text}: an ISO-8601 time or an age such as 24h or 7d`);
  }
  return t;
}

/**
 * The stored originals ingested at or after `since` (oldest first), read a keyset page at a time. Duplicates and
 * files in flight are not selected: they have nothing of their own to re-derive.
 */
export async function storedSince(store: StateStore, since: number): Promise<FileRecord[]> {
  const out: FileRecord[] = [];
  let after: { discoveredAt: string; ingestId: string } | undefined;
  for (;;) {
    const page = await store.listFiles({ limit: 1000, states: ["done"], ...(after ? { after } : {}) });
    for (const r of page) if (!r.duplicateOf && r.ingestedAt && Date.parse(r.ingestedAt) >= since) out.push(r);
    const last = page.at(-1);
    // Newest first by discovery: once a page is older than `since` (discovered before it was ingested), stop.
    if (page.length < 1000 || !last || Date.parse(last.discoveredAt) < since - 86_400_000) break;
    after = { discoveredAt: last.discoveredAt, ingestId: last.ingestId };
  }
  return out.reverse();
}
