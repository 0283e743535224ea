import { describe, expect, it } from "vitest";
import { formatAgo, formatBytes, formatCount, formatDuration, formatRate, formatTimestamp, shorten } from "./format";

describe("formatBytes", () => {
  it("is exact below 1 KiB and three significant digits above, in binary units", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1024)).toBe("1.00 KiB");
    expect(formatBytes(1536)).toBe("1.50 KiB");
    expect(formatBytes(3_005_986)).toBe("2.87 MiB");
    expect(formatBytes(150 * 1024 * 1024)).toBe("150 MiB");
    expect(formatBytes(2 ** 50 * 3)).toBe("3.00 PiB");
  });
  it("shows a dash for what is not a size", () => {
    expect(formatBytes(-1)).toBe("—");
    expect(formatBytes(Number.NaN)).toBe("—");
  });
});

describe("formatCount and formatRate", () => {
  it("groups thousands the same way in every locale", () => {
    expect(formatCount(0)).toBe("0");
    expect(formatCount(999)).toBe("999");
    expect(formatCount(1000)).toBe("1,000");
    expect(formatCount(1_234_567)).toBe("1,234,567");
  });
  it("keeps one decimal for small rates and none for large ones", () => {
    expect(formatRate(0)).toBe("0");
    expect(formatRate(-3)).toBe("0");
    expect(formatRate(0.44)).toBe("0.4");
    expect(formatRate(2)).toBe("2");
    expect(formatRate(12.5)).toBe("13");
    expect(formatRate(5321.7)).toBe("5,322");
  });
});

describe("formatDuration", () => {
  it("picks the unit an operator reads at a glance", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(4.25)).toBe("4.3 ms");
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(12_340)).toBe("12.3 s");
    expect(formatDuration(245_000)).toBe("4 min 05 s");
    expect(formatDuration(7_380_000)).toBe("2 h 03 min");
  });
});

describe("formatAgo and formatTimestamp", () => {
  const now = Date.parse("2026-11-24T12:00:00.000Z");
  it("says how long ago, then falls back to the UTC date", () => {
    expect(formatAgo("2026-11-24T11:59:58.000Z", now)).toBe("just now");
    expect(formatAgo("2026-11-24T11:59:18.000Z", now)).toBe("42 s ago");
    expect(formatAgo("2026-11-24T11:55:00.000Z", now)).toBe("5 min ago");
    expect(formatAgo("2026-11-24T09:00:00.000Z", now)).toBe("3 h ago");
    expect(formatAgo("2026-11-20T09:00:00.000Z", now)).toBe("2026-11-20 09:00:00 UTC");
    expect(formatAgo("not a date", now)).toBe("—");
  });
  it("prints UTC whatever the browser's zone", () => {
    expect(formatTimestamp("2026-11-24T13:05:09.123+01:00")).toBe("2026-11-24 12:05:09 UTC");
    expect(formatTimestamp(null)).toBe("—");
  });
});

describe("shorten", () => {
  it("keeps both ends of a long hash", () => {
    expect(shorten("0123456789abcdef0123456789abcdef", 4)).toBe("0123…cdef");
    expect(shorten("short", 4)).toBe("short");
  });
});
