import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { RateSeries } from "../lib/chart-data";
import { formatBytes, formatRate } from "../lib/format";

/** Files/s (left axis) and bytes/s (right axis) over time; uPlot draws it on a canvas, redrawn in place on new data. */
export function TimeChart({ data, label }: { data: RateSeries; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(data);
  latest.current = data;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 300),
      height: 260,
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, files: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] }, bytes: {} },
      series: [
        {},
        { label: "files/s", scale: "files", stroke: "#1d4ed8", width: 2, value: (_u, v) => formatRate(v ?? 0) },
        {
          label: "bytes/s",
          scale: "bytes",
          stroke: "#b45309",
          width: 2,
          dash: [6, 4],
          value: (_u, v) => `${formatBytes(v ?? 0)}/s`,
        },
      ],
      axes: [
        {},
        { scale: "files", label: "files/s", values: (_u, vals) => vals.map((v) => formatRate(v)) },
        {
          scale: "bytes",
          side: 1,
          label: "bytes/s",
          grid: { show: false },
          size: 80,
          values: (_u, vals) => vals.map((v) => formatBytes(v)),
        },
      ],
    };
    // Built once per mount; new data goes through setData below, which redraws in place.
    plot.current = new uPlot(opts, latest.current, el);
    const resize = new ResizeObserver(() =>
      plot.current?.setSize({ width: Math.max(el.clientWidth, 300), height: 260 }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return <div ref={box} className="chart" role="img" aria-label={label} data-testid="throughput-chart" />;
}
