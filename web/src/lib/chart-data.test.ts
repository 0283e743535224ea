import { describe, expect, it } from "vitest";
import { currentRate, perKeyCounts, scalarAggregations, toRateSeries, totalFiles } from "./chart-data";

const pt = (t: number, files: number, bytes: number, seconds = 5) => ({ t, files, bytes, seconds });

describe("throughput series", () => {
  it("turns per-slot counts into per-second rates, the filling slot divided by its elapsed time", () => {
    const [xs, files, bytes] = toRateSeries([pt(0, 10, 5000), pt(5000, 0, 0), pt(10_000, 4, 800, 2)]);
    expect(xs).toEqual([0, 5, 10]);
    expect(files).toEqual([2, 0, 2]);
    expect(bytes).toEqual([1000, 0, 400]);
  });
  it("leaves out a slot younger than a second (its rate would swing wildly)", () => {
    const [xs] = toRateSeries([pt(0, 1, 1), pt(5000, 3, 3, 0.2)]);
    expect(xs).toEqual([0]);
  });
  it("reads 'now' from the last full slot and sums the window", () => {
    const points = [pt(0, 10, 100), pt(5000, 20, 1000), pt(10_000, 1, 1, 0.5)];
    expect(currentRate(points)).toEqual({ files: 4, bytes: 200 });
    expect(totalFiles(points)).toBe(31);
    expect(currentRate([])).toEqual({ files: 0, bytes: 0 });
  });
});

describe("aggregations", () => {
  const agg = {
    row_count: 98_300,
    min_value: -62.7,
    max_timestamp: "2024-03-09T02:26:33Z",
    per_sensor_count: { S10: 3, S2: 5, S1: 7 },
    per_sensor_count_truncated: true,
    nested: { a: 1 },
  };
  it("charts every per_<key>_count map, keys in natural order", () => {
    expect(perKeyCounts(agg)).toEqual([
      {
        key: "sensor",
        counts: [
          ["S1", 7],
          ["S2", 5],
          ["S10", 3],
        ],
      },
    ]);
    expect(perKeyCounts(null)).toEqual([]);
  });
  it("lists the scalars and leaves maps and flags to other views", () => {
    expect(scalarAggregations(agg)).toEqual([
      ["row_count", 98_300],
      ["min_value", -62.7],
      ["max_timestamp", "2024-03-09T02:26:33Z"],
    ]);
  });
});
