import type { FileRecord } from "../core/file-record.js";
import type { ApiDeps, WaitingUpload } from "./deps.js";
import { ApiError } from "./errors.js";
import {
  type ApiStatus,
  type FileView,
  fileView,
  type InvalidRowsPage,
  invalidRowsPage,
  storeFilter,
  waitingView,
} from "./file-view.js";

/** How many invalid rows `GET /files/:id` embeds; the rest are paged by `/files/:id/invalid-rows`. */
export const DETAIL_INVALID_ROWS = 100;

export interface ListQuery {
  status?: ApiStatus;
  q?: string;
  limit: number;
  cursor?: string;
}

export interface FilePage {
  items: FileView[];
  next_cursor: string | null;
}

/**
 * Where the previous page ended. Waiting uploads come first ("w"), recorded
 * files after ("s"); each part is ordered newest first by (time, id), and the
 * cursor holds the last key shown, so the next page starts strictly after it.
 */
interface Cursor {
  k: "w" | "s";
  t: string;
  id: string;
}

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString("base64url");

function decodeCursor(s: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(s, "base64url").toString("utf8")) as Partial<Cursor>;
    if ((c.k === "w" || c.k === "s") && typeof c.t === "string" && typeof c.id === "string") {
      return { k: c.k, t: c.t, id: c.id };
    }
  } catch {
    // Falls through to the same answer as a well-formed JSON that is not a cursor.
  }
  throw new ApiError("SLUICE_ERR_BAD_REQUEST", "cursor is not one this API returned: start again without it");
}

const newerFirst = (a: { t: string; id: string }, b: { t: string; id: string }) =>
  a.t !== b.t ? (a.t < b.t ? 1 : -1) : a.id < b.id ? 1 : a.id > b.id ? -1 : 0;

const isAfter = (x: { t: string; id: string }, c: Cursor) => newerFirst(x, c) > 0;

/** Invalid rows are only ever recorded with a processing result; other rows need no query. */
async function listedView(deps: Pick<ApiDeps, "store">, r: FileRecord): Promise<FileView> {
  const total = r.processing ? await deps.store.invalidRowCount(r.ingestId) : 0;
  // A list shows the count only; `next_offset` points at the invalid-rows route for the rows themselves.
  return fileView(r, { total, items: [], next_offset: total > 0 ? 0 : null });
}

async function waitingMatches(
  deps: Pick<ApiDeps, "store" | "waitingList">,
  q: ListQuery,
  after?: Cursor,
): Promise<WaitingUpload[]> {
  if (q.status !== undefined && q.status !== "waiting") return [];
  const needle = q.q?.toLowerCase();
  const named = deps.waitingList().filter((w) => !needle || w.name.toLowerCase().includes(needle));
  // An upload the pipeline has recorded is listed from its row (the store is the truth), never twice.
  const recorded = await Promise.all(named.map((w) => deps.store.get(w.id)));
  return named
    .filter((_w, i) => recorded[i] === undefined)
    .map((w) => ({ w, key: { t: w.uploadTime, id: w.id } }))
    .filter(({ key }) => !after || isAfter(key, after))
    .sort((a, b) => newerFirst(a.key, b.key))
    .map(({ w }) => w);
}

/**
 * One page of `GET /files`: waiting uploads first (they are the newest), then
 * recorded files newest first. One row more than the page is fetched to know
 * whether another page follows.
 */
export async function listFilePage(deps: Pick<ApiDeps, "store" | "waitingList">, q: ListQuery): Promise<FilePage> {
  const cursor = q.cursor ? decodeCursor(q.cursor) : undefined;
  const want = q.limit + 1;
  const rows: { view: () => FileView | Promise<FileView>; key: Cursor }[] = [];
  if (cursor?.k !== "s") {
    for (const w of (await waitingMatches(deps, q, cursor)).slice(0, want)) {
      rows.push({ view: () => waitingView(w), key: { k: "w", t: w.uploadTime, id: w.id } });
    }
  }
  const filter = q.status ? storeFilter(q.status) : {};
  if (rows.length < want && filter) {
    const records = await deps.store.listFiles({
      ...filter,
      ...(q.q ? { nameContains: q.q } : {}),
      limit: want - rows.length,
      ...(cursor?.k === "s" ? { after: { discoveredAt: cursor.t, ingestId: cursor.id } } : {}),
    });
    for (const r of records) {
      rows.push({ view: () => listedView(deps, r), key: { k: "s", t: r.discoveredAt, id: r.ingestId } });
    }
  }
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  return {
    items: await Promise.all(page.map((r) => r.view())),
    next_cursor: rows.length > q.limit && last ? encodeCursor(last.key) : null,
  };
}

/** `GET /files/:id`: the recorded file with its first invalid rows, else the waiting upload. */
export async function fileDetail(deps: Pick<ApiDeps, "store" | "waiting">, id: string): Promise<FileView | undefined> {
  const r = await deps.store.get(id);
  if (r) {
    // Invalid rows come only from processing: a file without a result has none, and needs no queries (as in lists).
    if (!r.processing) return fileView(r, invalidRowsPage(0, 0, []));
    const [items, total] = await Promise.all([
      deps.store.invalidRows(id, 0, DETAIL_INVALID_ROWS),
      deps.store.invalidRowCount(id),
    ]);
    return fileView(r, invalidRowsPage(total, 0, items));
  }
  const w = deps.waiting(id);
  return w ? waitingView(w) : undefined;
}

/** `GET /files/:id/invalid-rows`; a waiting upload has none yet. */
export async function invalidRowsOf(
  deps: Pick<ApiDeps, "store" | "waiting">,
  id: string,
  offset: number,
  limit: number,
): Promise<InvalidRowsPage | undefined> {
  if (await deps.store.get(id)) {
    const [total, items] = await Promise.all([
      deps.store.invalidRowCount(id),
      deps.store.invalidRows(id, offset, limit),
    ]);
    return invalidRowsPage(total, offset, items);
  }
  return deps.waiting(id) ? invalidRowsPage(0, offset, []) : undefined;
}
