import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { firstPage, goNext, loaded } from "../lib/pagination";
import { Pager } from "./pager";
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
