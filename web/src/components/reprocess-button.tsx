import { useState } from "react";
import { useApi } from "../api/context";
import type { FileView } from "../api/types";
import { Problem } from "./problem";

/**
 * Whether the dashboard offers Reprocess for `f`: a stored original a processor handled (done, with outputs of its
 * own). Duplicates hold no bytes of their own, files in flight or failed have no generation to replace, and an
 * archive writes no outputs (its members are files of their own, each with its own button): the server refuses all
 * of these with SLUICE_ERR_NOT_REPROCESSABLE anyway; hiding the button spares the operator a refusal.
 */
export function reprocessable(f: FileView): boolean {
  return (
    (f.status === "processed" || f.status === "partial") &&
    f.duplicate_of === null &&
    f.profile !== null &&
    f.profile.length > 0
  );
}

/**
 * A stored file's reprocess: the button (POST /api/v1/files/{id}/reprocess, which answers once the new generation
 * is current), "reprocessing…" while it runs, then `onDone` with the file at its new generation (the page reloads
 * its view and history). A refusal (409: another reprocess running, raw bytes changed; 422: today's schema refuses
 * the file) is shown beside the button with the server's message: nothing changed, the button stays.
 */
export function Reprocess({ f, onDone }: { f: FileView; onDone: (fresh: FileView) => void }) {
  const api = useApi();
  const [running, setRunning] = useState(false);
  const [refused, setRefused] = useState<Error | null>(null);
  if (!reprocessable(f)) return null;
  const send = async () => {
    setRunning(true);
    setRefused(null);
    try {
      onDone(await api.post<FileView>(`/api/v1/files/${encodeURIComponent(f.id)}/reprocess`));
    } catch (err) {
      setRefused(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setRunning(false);
    }
  };
  return (
    <div className="reprocess">
      <button type="button" disabled={running} onClick={send} aria-label={`Reprocess ${f.name}`}>
        Reprocess
      </button>
      {running ? (
        <span className="reprocess-running" aria-live="polite">
          {" "}
          reprocessing…
        </span>
      ) : null}
      <Problem error={refused} lead="Could not reprocess" />
    </div>
  );
}
