import { useMemo } from "react";
import { useApi } from "../api/context";
import type { FilePage, Stats } from "../api/types";
import { Problem } from "../components/problem";
import { TimeChart } from "../components/time-chart";
import { usePoll } from "../hooks/use-poll";
import { currentRate, toRateSeries, totalFiles } from "../lib/chart-data";
import { formatBytes, formatCount, formatRate } from "../lib/format";
import { hrefOf } from "../lib/router";

function Counter({ label, value, href }: { label: string; value: number; href?: string }) {
  const body = (
    <>
      <span className="counter-value">{formatCount(value)}</span>
      <span className="counter-label">{label}</span>
    </>
  );
  return (
    <li className="counter" data-testid={`count-${label}`}>
      {href ? <a href={href}>{body}</a> : body}
    </li>
  );
}

function Health({ name, ok }: { name: string; ok: boolean }) {
  return (
    <li className={ok ? "health ok" : "health down"}>
      {name}: <strong>{ok ? "OK" : "unavailable"}</strong>
    </li>
  );
}

/** How many of the files between steps the overview names (the rest are on the Files page). */
const IN_FLIGHT_SHOWN = 8;

export function Overview() {
  const api = useApi();
  const { data, error, stale } = usePoll((signal) => api.get<Stats>("/api/v1/stats", signal), 2000, "stats");
  const busy = usePoll(
    (signal) => api.get<FilePage>(`/api/v1/files?status=processing&limit=${IN_FLIGHT_SHOWN}`, signal),
    2000,
    "busy",
  );
  const points = data?.throughput.points;
  const series = useMemo(() => toRateSeries(points ?? []), [points]);
  if (!data) return <Problem error={error} stale={stale} />;
  const rate = currentRate(data.throughput.points);
  const c = data.counts;
  const a = data.activity;
  return (
    <>
      <h1>Overview</h1>
      <Problem error={error} stale={stale} />
      <ul className="counters" aria-label="Files">
        <Counter label="ingested" value={c.ingested} href={hrefOf({ page: "files", status: "processed" })} />
        <Counter label="duplicates" value={c.duplicates} href={hrefOf({ page: "files", status: "duplicate" })} />
        <Counter label="failed" value={c.failed} href={hrefOf({ page: "errors" })} />
        <Counter label="processing" value={c.processing} href={hrefOf({ page: "files", status: "processing" })} />
        <Counter label="waiting" value={c.waiting} />
      </ul>
      <section aria-labelledby="throughput-title">
        <h2 id="throughput-title">Throughput, last 15 minutes</h2>
        <p className="rates">
          Now: <strong data-testid="rate-files">{formatRate(rate.files)}</strong> files/s ·{" "}
          <strong>{formatBytes(rate.bytes)}/s</strong> ·{" "}
          <span data-testid="window-total">{formatCount(totalFiles(data.throughput.points))}</span> files finished in
          the window
        </p>
        <TimeChart data={series} label="Files per second and bytes per second over the last 15 minutes" />
      </section>
      <div className="two-col">
        <section aria-labelledby="activity-title">
          <h2 id="activity-title">Activity</h2>
          <dl className="facts">
            <dt>Queue depth</dt>
            <dd data-testid="queue-depth">{formatCount(a.queue_depth)}</dd>
            <dt>In flight</dt>
            <dd data-testid="in-flight">{formatCount(a.in_flight)}</dd>
            <dt>Waiting to become ready</dt>
            <dd>{formatCount(a.pending)}</dd>
            <dt>Waiting for the warehouse</dt>
            <dd>{formatCount(a.warehouse_waiting)}</dd>
          </dl>
          <h3>Files in flight</h3>
          {busy.data && busy.data.items.length > 0 ? (
            <ul className="in-flight" data-testid="in-flight-files">
              {busy.data.items.map((f) => (
                <li key={f.id}>
                  <a href={hrefOf({ page: "file", id: f.id })}>{f.name}</a> ({formatBytes(f.size)})
                </li>
              ))}
              {busy.data.next_cursor ? (
                <li>
                  <a href={hrefOf({ page: "files", status: "processing" })}>all files in flight…</a>
                </li>
              ) : null}
            </ul>
          ) : (
            <p className="empty">None right now.</p>
          )}
        </section>
        <section aria-labelledby="health-title">
          <h2 id="health-title">Health</h2>
          <ul className="healths">
            <Health name="State store" ok={data.health.state} />
            <Health name="Warehouse" ok={data.health.warehouse} />
          </ul>
          {data.health.detail ? <p className="problem">{data.health.detail}</p> : null}
        </section>
      </div>
    </>
  );
}
