import { describe, expect, it } from "vitest";
import { mergeLive, newCount } from "./merge";
import { view } from "./test-views";

describe("mergeLive", () => {
  it("shows the first page as it came, with nothing highlighted", () => {
    const rows = mergeLive(null, [view("b"), view("a")]);
    expect(rows.map((r) => [r.file.id, r.flash])).toEqual([
      ["b", null],
      ["a", null],
    ]);
  });

  it("marks new rows and rows whose status changed, in the server's order, dropping rows pushed off the page", () => {
    const first = mergeLive(null, [view("c", "processing"), view("b"), view("a")]);
    const second = mergeLive(first, [view("e", "waiting"), view("d"), view("c", "partial")]);
    expect(second.map((r) => [r.file.id, r.file.status, r.flash])).toEqual([
      ["e", "waiting", "new"],
      ["d", "processed", "new"],
      ["c", "partial", "changed"],
    ]);
    expect(newCount(second)).toBe(2);
  });

  it("clears a highlight after one poll, and hands back the same array when nothing changed", () => {
    const a = mergeLive(null, [view("x", "processing")]);
    const b = mergeLive(a, [view("x", "processed")]);
    expect(b[0]?.flash).toBe("changed");
    const c = mergeLive(b, [view("x", "processed")]);
    expect(c[0]?.flash).toBeNull();
    const d = mergeLive(c, [view("x", "processed")]);
    expect(d).toBe(c);
    expect(d[0]).toBe(c[0]);
  });

  it("notices a change that keeps the status (a waiting upload getting its hash) as a change", () => {
    const a = mergeLive(null, [view("x", "processing")]);
    const b = mergeLive(a, [view("x", "processing", { sha256: "ab".repeat(32), updated_at: "2026-11-24T12:00:01Z" })]);
    expect(b[0]?.flash).toBe("changed");
  });
});
