import { useState } from "react";
import { ApiError } from "../api/client";
import { useApi } from "../api/context";
import type { FileView, RequeueAccepted } from "../api/types";
import { hrefOf } from "../lib/router";

/**
 * A failed file's requeue: the button (POST /api/v1/files/{id}/requeue), then "requeued, waiting" until the page's
 * own polling shows the new attempt, then "requeued → new attempt" as a link. A refusal (name taken in staging,
 * copy missing) is shown beside the button, which stays for a second try.
 */
export function Requeue({ f }: { f: FileView }) {
  const api = useApi();
  const [state, setState] = useState<"idle" | "sending" | "pending">("idle");
  const [refused, setRefused] = useState<string | null>(null);
  if (f.requeued_to) {
    return (
      <span className="requeued">
        requeued → <a href={hrefOf({ page: "file", id: f.requeued_to })}>new attempt</a>
      </span>
    );
  }
  // A file that kept nothing in the error directory (it vanished from staging) has nothing to put back.
  if (f.status !== "failed" || !f.error?.error_path) return null;
  if (state === "pending") {
    return (
      <span className="requeued" aria-live="polite">
        requeued, waiting for the pipeline…
      </span>
    );
  }
  const send = async () => {
    setState("sending");
    setRefused(null);
    try {
      await api.post<RequeueAccepted>(`/api/v1/files/${encodeURIComponent(f.id)}/requeue`);
      setState("pending");
    } catch (err) {
      setRefused(err instanceof ApiError ? err.message : String(err));
      setState("idle");
    }
  };
  return (
    <span className="requeue">
      <button type="button" disabled={state === "sending"} onClick={send} aria-label={`Requeue ${f.name}`}>
        Requeue
      </button>
      {refused ? (
        <span className="requeue-refused" role="alert">
          {" "}
          {refused}
        </span>
      ) : null}
    </span>
  );
}
