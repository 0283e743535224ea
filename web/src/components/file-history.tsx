import { useApi } from "../api/context";
import type { FileHistory, HistoryEntry } from "../api/types";
import { usePoll } from "../hooks/use-poll";
import { formatCount, formatTimestamp } from "../lib/format";
import { Problem } from "./problem";

/** How an output is named on the page: its table, the rejects list, or the one Parquet file. */
export function outputLabel(o: { kind: string; table?: string }): string {
  return o.table ? `Table ${o.table}` : o.kind === "rejects" ? "Rejected rows file" : "Parquet";
}

function Outputs({ entry }: { entry: HistoryEntry }) {
  if (entry.outputs.length === 0) return <>—</>;
  return (
    <ul className="history-outputs">
      {entry.outputs.map((o) => (
        <li key={o.path} title={o.path}>
          {outputLabel(o)}: {o.row_count === null ? "—" : `${formatCount(o.row_count)} rows`}
        </li>
      ))}
    </ul>
  );
}

/**
 * A file's generations of derived outputs, oldest first (GET /api/v1/files/{id}/history). The list changes only
 * when the generation does: it is fetched again when the page's view shows a new `generation`, never on a timer.
 */
export function History({ id, generation }: { id: string; generation: number }) {
  const api = useApi();
  const url = `/api/v1/files/${encodeURIComponent(id)}/history`;
  const { data, error, stale } = usePoll(
    (signal) => api.get<FileHistory>(url, signal),
    3_600_000,
    `${url}@${generation}`,
  );
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      <Problem error={error} stale={stale} />
      <table className="history">
        <caption className="sr-only">Each generation of this file's derived outputs, oldest first</caption>
        <thead>
          <tr>
            <th scope="col" className="num">
              Generation
            </th>
            <th scope="col">Kind</th>
            <th scope="col">Time</th>
            <th scope="col">Status</th>
            <th scope="col">Schema</th>
            <th scope="col">Rows per output</th>
            <th scope="col" className="num">
              Invalid rows
            </th>
          </tr>
        </thead>
        <tbody>
          {(data?.items ?? []).map((h) => (
            <tr key={h.generation} className={h.generation === data?.generation ? "current" : undefined}>
              <td className="num">
                {h.generation}
                {h.generation === data?.generation ? " (current)" : ""}
              </td>
              <td>{h.kind}</td>
              <td>{formatTimestamp(h.recorded_at)}</td>
              <td>{h.status ?? "—"}</td>
              <td>{h.schema ?? "—"}</td>
              <td>
                <Outputs entry={h} />
              </td>
              <td className="num">{h.invalid_count === null ? "—" : formatCount(h.invalid_count)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
