import { useEffect, useRef } from "react";
import uPlot from "uplot";
import { formatCount } from "../lib/format";

/** Counts per key as bars (uPlot's bar path builder), keys along the x axis. */
export function BarChart({ counts, label }: { counts: [string, number][]; label: string }) {
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = box.current;
    if (!el || counts.length === 0) return;
    const keys = counts.map(([k]) => k);
    const bars = uPlot.paths.bars?.({ size: [0.7, 40] });
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 300),
      height: 240,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false, range: [-0.5, keys.length - 0.5] }, y: { range: (_u, _min, max) => [0, max * 1.1] } },
      series: [
        {},
        {
          label: "rows",
          fill: "#2563eb",
          stroke: "#1e40af",
          ...(bars ? { paths: bars } : {}),
          points: { show: false },
        },
      ],
      axes: [
        {
          values: (_u, vals) => vals.map((v) => (Number.isInteger(v) ? (keys[v] ?? "") : "")),
          rotate: keys.length > 12 ? -60 : 0,
          size: keys.length > 12 ? 70 : 40,
          space: 10,
        },
        { values: (_u, vals) => vals.map((v) => formatCount(v)) },
      ],
    };
    const chart = new uPlot(opts, [keys.map((_k, i) => i), counts.map(([, n]) => n)], el);
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(el.clientWidth, 300), height: 240 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [counts]);

  return <div ref={box} className="chart" role="img" aria-label={label} />;
}
