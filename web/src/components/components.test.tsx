import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { firstPage, goNext, loaded } from "../lib/pagination";
import { view } from "../lib/test-views";
import { Pager } from "./pager";
import { Problem } from "./problem";
import { reprocessable } from "./reprocess-button";
import { StatusBadge } from "./status-badge";

describe("StatusBadge", () => {
  it("says the status in words, not only in colour", () => {
    const html = renderToStaticMarkup(<StatusBadge status="partial" />);
    expect(html).toBe('<span class="badge badge-partial">partial</span>');
  });
});

describe("Pager", () => {
  const noop = () => {};
  it("disables Newer on the first page and Older until a next page is known", () => {
    const html = renderToStaticMarkup(<Pager pager={firstPage()} onPrev={noop} onNext={noop} />);
    expect(html).toMatch(/<button type="button" disabled="">← Newer<\/button>/);
    expect(html).toMatch(/<button type="button" disabled="">Older →<\/button>/);
    expect(html).toContain("Page 1");
  });
  it("enables both in the middle of the list", () => {
    const middle = loaded(goNext(loaded(firstPage(), "c1")), "c2");
    const html = renderToStaticMarkup(<Pager pager={middle} onPrev={noop} onNext={noop} />);
    expect(html).not.toContain("disabled");
    expect(html).toContain("Page 2");
  });
});

describe("reprocessable", () => {
  const out = { kind: "parquet", path: "/wh/a.csv.parquet", row_count: 3, columns: [] };
  it("offers Reprocess on a stored file a processor wrote outputs for, processed or partial", () => {
    expect(reprocessable(view("a", "processed", { profile: [out] }))).toBe(true);
    expect(reprocessable(view("a", "partial", { profile: [out], generation: 2 }))).toBe(true);
  });
  it("not on a duplicate, an archive (no outputs of its own), a file no processor ran on, or one not done", () => {
    expect(reprocessable(view("d", "duplicate", { profile: [out], duplicate_of: "a" }))).toBe(false);
    expect(reprocessable(view("z", "processed", { profile: [] }))).toBe(false);
    expect(reprocessable(view("b", "processed", { profile: null }))).toBe(false);
    for (const s of ["failed", "processing", "waiting"] as const) {
      expect(reprocessable(view("f", s, { profile: [out] }))).toBe(false);
    }
  });
});

describe("Problem", () => {
  it("names a refused action instead of an unreachable server", () => {
    const html = renderToStaticMarkup(<Problem error={new Error("busy")} lead="Could not reprocess" />);
    expect(html).toBe('<p class="problem" role="alert">Could not reprocess: busy</p>');
    expect(renderToStaticMarkup(<Problem error={new Error("down")} />)).toContain("Could not reach sluice: down");
  });
});
