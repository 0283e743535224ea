import { type FormEvent, useEffect, useState } from "react";
import { useApi } from "../api/context";
import { type FilePage, STATUSES, type Status } from "../api/types";
import { Pager } from "../components/pager";
import { Problem } from "../components/problem";
import { StatusBadge } from "../components/status-badge";
import { usePoll } from "../hooks/use-poll";
import { formatAgo, formatBytes } from "../lib/format";
import { type LiveRow, mergeLive } from "../lib/merge";
import { currentCursor, firstPage, goNext, goPrev, loaded } from "../lib/pagination";
import { hrefOf } from "../lib/router";

export const PAGE_SIZE = 25;

function listUrl(status: Status | undefined, q: string | undefined, cursor: string | null): string {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (status) params.set("status", status);
  if (q) params.set("q", q);
  if (cursor) params.set("cursor", cursor);
  return `/api/v1/files?${params}`;
}

export function Files({ status, q }: { status?: Status; q?: string }) {
  const api = useApi();
  const [pager, setPager] = useState(firstPage);
  const [rows, setRows] = useState<LiveRow[] | null>(null);
  const [search, setSearch] = useState(q ?? "");
  const cursor = currentCursor(pager);
  const url = listUrl(status, q, cursor);
  const { data, error, stale } = usePoll((signal) => api.get<FilePage>(url, signal), 2000, url);

  // A new filter or search starts again on the first page.
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset on filter change only
  useEffect(() => {
    setPager(firstPage());
    setRows(null);
  }, [status, q]);
  useEffect(() => setSearch(q ?? ""), [q]);
  useEffect(() => {
    if (!data) return;
    setRows((prev) => mergeLive(prev, data.items));
    setPager((p) => loaded(p, data.next_cursor));
  }, [data]);

  const go = (next: { status?: Status; q?: string }) => {
    window.location.hash = hrefOf({ page: "files", ...next });
  };
  const onSearch = (e: FormEvent) => {
    e.preventDefault();
    go({ ...(status ? { status } : {}), ...(search.trim() ? { q: search.trim() } : {}) });
  };

  return (
    <>
      <h1>Files</h1>
      <form className="filters" onSubmit={onSearch} aria-label="Filter files">
        <label htmlFor="status-filter">Status</label>
        <select
          id="status-filter"
          value={status ?? ""}
          onChange={(e) => go({ ...(e.target.value ? { status: e.target.value as Status } : {}), ...(q ? { q } : {}) })}
        >
          <option value="">all</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <label htmlFor="name-search">Name contains</label>
        <input id="name-search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
        <button type="submit">Search</button>
      </form>
      <Problem error={error} stale={stale} />
      <table className="files">
        <caption className="sr-only">Files, newest first{pager.index === 0 ? ", updated live" : ""}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">
              Size
            </th>
            <th scope="col">Seen</th>
          </tr>
        </thead>
        <tbody>
          {(rows ?? []).map(({ file, flash }) => (
            <tr key={file.id} className={flash ? `flash-${flash}` : undefined}>
              <td>
                <a href={hrefOf({ page: "file", id: file.id })}>{file.name}</a>
              </td>
              <td>
                <StatusBadge status={file.status} />
              </td>
              <td className="num">{formatBytes(file.size)}</td>
              <td title={file.upload_time}>{formatAgo(file.upload_time)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows && rows.length === 0 ? <p className="empty">No files match.</p> : null}
      <Pager
        pager={pager}
        onPrev={() => {
          setRows(null);
          setPager(goPrev);
        }}
        onNext={() => {
          setRows(null);
          setPager(goNext);
        }}
      />
    </>
  );
}
