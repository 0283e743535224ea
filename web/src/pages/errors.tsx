import { useState } from "react";
import { useApi } from "../api/context";
import type { FilePage } from "../api/types";
import { Pager } from "../components/pager";
import { Problem } from "../components/problem";
import { Requeue } from "../components/requeue-button";
import { usePoll } from "../hooks/use-poll";
import { formatTimestamp } from "../lib/format";
import { currentCursor, firstPage, goNext, goPrev, loaded } from "../lib/pagination";
import { hrefOf } from "../lib/router";

/** Quarantined files: what failed, why, when, and where the file was put. */
export function Errors() {
  const api = useApi();
  const [pager, setPager] = useState(firstPage);
  const cursor = currentCursor(pager);
  const url = `/api/v1/files?status=failed&limit=25${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
  const { data, error, stale } = usePoll(
    async (signal) => {
      const page = await api.get<FilePage>(url, signal);
      setPager((p) => loaded(p, page.next_cursor));
      return page;
    },
    3000,
    url,
  );
  return (
    <>
      <h1>Errors</h1>
      <p>
        Files that could not be ingested are moved to the error directory, with their reason beside them. Once the cause
        is fixed, Requeue puts a file back through the pipeline, linked to its failed attempt.
      </p>
      <Problem error={error} stale={stale} />
      {data && data.items.length === 0 ? <p className="empty">No failed files.</p> : null}
      <table className="errors">
        <thead>
          <tr>
            <th scope="col">File</th>
            <th scope="col">Reason</th>
            <th scope="col">When</th>
            <th scope="col">Quarantined at</th>
            <th scope="col">Requeue</th>
          </tr>
        </thead>
        <tbody>
          {(data?.items ?? []).map((f) => (
            <tr key={f.id}>
              <td>
                <a href={hrefOf({ page: "file", id: f.id })}>{f.name}</a>
              </td>
              <td className="reason">
                {f.error ? (
                  <>
                    <code>{f.error.code}</code> {f.error.message}
                  </>
                ) : (
                  "—"
                )}
              </td>
              <td>{formatTimestamp(f.updated_at)}</td>
              <td className="mono">{f.error?.error_path ?? "—"}</td>
              <td>
                <Requeue f={f} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager pager={pager} onPrev={() => setPager(goPrev)} onNext={() => setPager(goNext)} />
    </>
  );
}
