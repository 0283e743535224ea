import type { FileView, Status } from "../api/types";

/** One file the operator dropped on the Upload page, from first byte sent to its final status. */
export interface UploadEntry {
  key: string;
  name: string;
  size: number;
  sent: number;
  phase: "uploading" | "accepted" | "error";
  /** The id the API answered with (then followed until final). */
  id?: string;
  status?: Status;
  error?: string;
}

export type UploadAction =
  | { type: "added"; entries: UploadEntry[] }
  | { type: "progress"; key: string; sent: number }
  | { type: "accepted"; key: string; id: string }
  | { type: "failed"; key: string; error: string }
  | { type: "statuses"; views: FileView[] };

export const FINAL: readonly Status[] = ["processed", "partial", "failed", "duplicate"];
export const isFinal = (s: Status | undefined) => s !== undefined && FINAL.includes(s);

export function uploadsReducer(state: UploadEntry[], action: UploadAction): UploadEntry[] {
  switch (action.type) {
    case "added":
      return [...action.entries, ...state];
    case "progress":
      return state.map((e) => (e.key === action.key ? { ...e, sent: Math.max(e.sent, action.sent) } : e));
    case "accepted":
      return state.map((e) =>
        e.key === action.key ? { ...e, phase: "accepted", id: action.id, sent: e.size, status: "waiting" } : e,
      );
    case "failed":
      return state.map((e) => (e.key === action.key ? { ...e, phase: "error", error: action.error } : e));
    case "statuses": {
      const byId = new Map(action.views.map((v) => [v.id, v]));
      let changed = false;
      const next = state.map((e) => {
        const v = e.id ? byId.get(e.id) : undefined;
        // A final status never goes back (a late poll answered before a newer one).
        if (!v || v.status === e.status || isFinal(e.status)) return e;
        changed = true;
        return { ...e, status: v.status };
      });
      return changed ? next : state;
    }
  }
}

/** Ids still worth polling: accepted and not final yet. */
export const idsToFollow = (state: readonly UploadEntry[]) =>
  state.filter((e) => e.phase === "accepted" && e.id && !isFinal(e.status)).map((e) => e.id as string);

/** 0–100, for the progress bar. */
export const percent = (e: UploadEntry) => (e.size === 0 ? 100 : Math.min(100, Math.floor((e.sent / e.size) * 100)));
