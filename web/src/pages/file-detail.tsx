import { useState } from "react";
import { useApi } from "../api/context";
import type { FileView, InvalidRowsPage, OutputProfile, ProfileValue } from "../api/types";
import { BarChart } from "../components/bar-chart";
import { History, outputLabel } from "../components/file-history";
import { Problem } from "../components/problem";
import { Reprocess, reprocessable } from "../components/reprocess-button";
import { Requeue } from "../components/requeue-button";
import { StatusBadge } from "../components/status-badge";
import { usePoll } from "../hooks/use-poll";
import { perKeyCounts, scalarAggregations } from "../lib/chart-data";
import { formatBytes, formatCount, formatDuration, formatTimestamp } from "../lib/format";
import { hrefOf } from "../lib/router";
import { isFinal } from "../lib/uploads";

export const INVALID_PAGE = 25;

const show = (v: ProfileValue) => (v === null ? "—" : String(v));

function ProfileTable({ output }: { output: OutputProfile }) {
  const title = outputLabel(output);
  return (
    <section className="profile">
      <h3>
        {title}
        {output.row_count !== null ? ` · ${formatCount(output.row_count)} rows` : ""}
      </h3>
      <p className="path">{output.path}</p>
      {output.columns.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Column</th>
              <th scope="col">Type</th>
              <th scope="col" className="num">
                Nulls
              </th>
              <th scope="col">Min</th>
              <th scope="col">Max</th>
            </tr>
          </thead>
          <tbody>
            {output.columns.map((c) => (
              <tr key={c.name}>
                <th scope="row">{c.name}</th>
                <td>{c.type}</td>
                <td className="num">{formatCount(c.null_count)}</td>
                <td>{show(c.min)}</td>
                <td>{show(c.max)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function PerKey({ keyName, counts }: { keyName: string; counts: [string, number][] }) {
  return (
    <section className="per-key" data-testid={`per-${keyName}`}>
      <h3>Valid rows per {keyName}</h3>
      <BarChart counts={counts} label={`Bar chart of valid rows per ${keyName}`} />
      <details>
        <summary>As a table ({counts.length} values)</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">{keyName}</th>
              <th scope="col" className="num">
                rows
              </th>
            </tr>
          </thead>
          <tbody>
            {counts.map(([k, n]) => (
              <tr key={k}>
                <th scope="row">{k}</th>
                <td className="num">{formatCount(n)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </section>
  );
}

function InvalidRows({ id, total }: { id: string; total: number }) {
  const api = useApi();
  const [offset, setOffset] = useState(0);
  const url = `/api/v1/files/${encodeURIComponent(id)}/invalid-rows?offset=${offset}&limit=${INVALID_PAGE}`;
  // Invalid rows never change once recorded: no polling, one fetch per page.
  const { data, error, stale } = usePoll((signal) => api.get<InvalidRowsPage>(url, signal), 3_600_000, url);
  const last = Math.min(offset + INVALID_PAGE, total);
  return (
    <section aria-labelledby="invalid-title">
      <h2 id="invalid-title">Invalid rows ({formatCount(total)})</h2>
      <Problem error={error} stale={stale} />
      <table className="invalid-rows">
        <caption className="sr-only">Invalid rows with their data-row numbers and reasons</caption>
        <thead>
          <tr>
            <th scope="col" className="num">
              Row
            </th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {(data?.items ?? []).map((r) => (
            <tr key={r.row}>
              <td className="num">{r.row}</td>
              <td className="reason">{r.error}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <nav className="pager" aria-label="Invalid row pages">
        <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - INVALID_PAGE))}>
          ← Previous
        </button>
        <span aria-live="polite">
          Rows {formatCount(offset + 1)}–{formatCount(last)} of {formatCount(total)}
        </span>
        <button type="button" disabled={data?.next_offset == null} onClick={() => setOffset(offset + INVALID_PAGE)}>
          Next →
        </button>
      </nav>
    </section>
  );
}

function Facts({ f }: { f: FileView }) {
  return (
    <dl className="facts">
      <dt>Size</dt>
      <dd>
        {formatBytes(f.size)} ({formatCount(f.size)} bytes)
      </dd>
      <dt>SHA-256</dt>
      <dd className="mono" data-testid="sha256">
        {f.sha256 ?? "—"}
      </dd>
      <dt>Warehouse path</dt>
      <dd className="mono">{f.warehouse_path ?? "—"}</dd>
      <dt>First seen</dt>
      <dd>{formatTimestamp(f.upload_time)}</dd>
      <dt>Ingested</dt>
      <dd>{formatTimestamp(f.ingested_at)}</dd>
      <dt>Processing time</dt>
      <dd>{formatDuration(f.processing_ms)}</dd>
      <dt>Last change</dt>
      <dd>{formatTimestamp(f.updated_at)}</dd>
      <dt>Generation</dt>
      <dd data-testid="generation">
        {f.generation}
        {f.generation > 0 ? " (reprocessed)" : ""}
      </dd>
      <dt>Id</dt>
      <dd className="mono">{f.id}</dd>
      {f.archive_ingest_id ? (
        <>
          <dt>Archive member of</dt>
          <dd>
            <a href={hrefOf({ page: "file", id: f.archive_ingest_id })}>the archive</a>, as{" "}
            <span className="mono">{f.member_path}</span>
          </dd>
        </>
      ) : null}
      {f.requeued_from ? (
        <>
          <dt>Requeued from</dt>
          <dd>
            <a href={hrefOf({ page: "file", id: f.requeued_from })}>the failed attempt</a>
          </dd>
        </>
      ) : null}
      {f.duplicate_of ? (
        <>
          <dt>Duplicate of</dt>
          <dd>
            <a href={hrefOf({ page: "file", id: f.duplicate_of })}>the file first stored with this content</a>
          </dd>
        </>
      ) : null}
    </dl>
  );
}

export function FileDetail({ id }: { id: string }) {
  const api = useApi();
  const url = `/api/v1/files/${encodeURIComponent(id)}`;
  const { data: f, error, stale, refresh } = usePoll((signal) => api.get<FileView>(url, signal), 2000, url);
  if (!f) return <Problem error={error} stale={stale} />;
  const scalars = scalarAggregations(f.aggregations);
  const perKey = perKeyCounts(f.aggregations);
  return (
    <>
      <p>
        <a href={hrefOf({ page: "files" })}>← Files</a>
      </p>
      <h1 className="file-title">
        <span className="file-name">{f.name}</span> <StatusBadge status={f.status} />
      </h1>
      {!isFinal(f.status) ? <p aria-live="polite">Not finished yet: this page updates by itself.</p> : null}
      <Problem error={error} stale={stale} />
      {f.error ? (
        <section className="error-box" aria-labelledby="error-title">
          <h2 id="error-title">Why it failed</h2>
          <p>
            <code>{f.error.code}</code>: {f.error.message}
          </p>
          {f.error.error_path ? <p className="mono">Quarantined at {f.error.error_path}</p> : null}
          <p>
            <Requeue f={f} />
          </p>
        </section>
      ) : null}
      <Facts f={f} />
      {/* A reprocess answers with the new generation: the view is fetched again at once, the history follows it. */}
      <Reprocess f={f} onDone={refresh} />
      {scalars.length > 0 ? (
        <section aria-labelledby="agg-title">
          <h2 id="agg-title">Aggregations</h2>
          <dl className="facts" data-testid="aggregations">
            {scalars.map(([k, v]) => (
              <div key={k} className="fact">
                <dt>{k}</dt>
                <dd>{typeof v === "number" ? (Number.isInteger(v) ? formatCount(v) : String(v)) : v}</dd>
              </div>
            ))}
          </dl>
          {perKey.map((p) => (
            <PerKey key={p.key} keyName={p.key} counts={p.counts} />
          ))}
        </section>
      ) : null}
      {/* Keyed by generation: a reprocess replaced the invalid rows, so the pages are fetched anew from the first. */}
      {f.invalid_rows && f.invalid_rows.total > 0 ? (
        <InvalidRows key={f.generation} id={f.id} total={f.invalid_rows.total} />
      ) : null}
      {f.profile && f.profile.length > 0 ? (
        <section aria-labelledby="profile-title">
          <h2 id="profile-title">Column profile</h2>
          {f.profile.map((o) => (
            <ProfileTable key={o.path} output={o} />
          ))}
        </section>
      ) : null}
      {reprocessable(f) || f.generation > 0 ? <History id={f.id} generation={f.generation} /> : null}
    </>
  );
}
