import { describe, expect, it } from "vitest";
import { ThroughputHistory } from "../../src/telemetry/throughput-history.js";

describe("ThroughputHistory", () => {
  const clock = (start: number) => {
    const c = { now: start, fn: () => c.now };
    return c;
  };

  it("adds up what finishes within a slot and keeps the window's slots in time order", () => {
    const c = clock(1_000_000);
    const h = new ThroughputHistory(1000, 5000, c.fn);
    h.record(1, 10);
    h.record(2, 20);
    c.now += 1000;
    h.record(1, 5);
    c.now += 250;
    const s = h.series();
    expect(s.map((p) => p.t)).toEqual([997_000, 998_000, 999_000, 1_000_000, 1_001_000]);
    expect(s.map((p) => p.files)).toEqual([0, 0, 0, 3, 1]);
    expect(s.map((p) => p.bytes)).toEqual([0, 0, 0, 30, 5]);
    expect(s.at(-1)!.seconds).toBeCloseTo(0.25);
    expect(s[0]!.seconds).toBe(1);
  });

  it("forgets slots older than the window, even when their ring position is reused", () => {
    const c = clock(0);
    const h = new ThroughputHistory(1000, 3000, c.fn);
    h.record(7, 70);
    c.now = 3000; // same ring position as t=0, a window later
    h.record(1, 1);
    const s = h.series();
    expect(s.map((p) => [p.t, p.files])).toEqual([
      [1000, 0],
      [2000, 0],
      [3000, 1],
    ]);
    c.now = 60_000;
    expect(h.series().every((p) => p.files === 0)).toBe(true);
  });

  it("survives the clock jumping backwards: old slots are reset, never double-counted", () => {
    const c = clock(10_000);
    const h = new ThroughputHistory(1000, 3000, c.fn);
    h.record(5, 0);
    c.now = 7_000;
    h.record(1, 0);
    expect(h.series().map((p) => p.files)).toEqual([0, 0, 1]);
  });
});
