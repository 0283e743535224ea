import { describe, expect, it } from "vitest";
import { currentCursor, firstPage, goNext, goPrev, hasNext, hasPrev, loaded, pageNumber } from "./pagination";

describe("CursorPager", () => {
  it("walks forwards with the cursor each page answered, and back through the cursors kept", () => {
    let p = firstPage();
    expect(currentCursor(p)).toBeNull();
    expect(hasPrev(p)).toBe(false);
    expect(hasNext(p)).toBe(false);
    p = loaded(p, "c1");
    expect(hasNext(p)).toBe(true);
    p = goNext(p);
    expect([pageNumber(p), currentCursor(p)]).toEqual([2, "c1"]);
    expect(hasNext(p)).toBe(false); // not known until page 2 has loaded
    p = goNext(loaded(p, "c2"));
    expect([pageNumber(p), currentCursor(p)]).toEqual([3, "c2"]);
    p = loaded(p, null);
    expect(hasNext(p)).toBe(false);
    expect(goNext(p)).toBe(p);
    p = goPrev(p);
    expect([pageNumber(p), currentCursor(p), hasNext(p)]).toEqual([2, "c1", true]);
    p = goPrev(goPrev(p));
    expect([pageNumber(p), currentCursor(p)]).toEqual([1, null]);
  });

  it("drops the cursors beyond a page when going forwards from it again (later pages may have shifted)", () => {
    let p = goNext(goNext(loaded(goNext(loaded(firstPage(), "a")), "b")));
    expect(p.cursors).toEqual([null, "a", "b"]);
    p = goPrev(goPrev(p));
    p = goNext(loaded(p, "a2"));
    expect(p.cursors).toEqual([null, "a2"]);
    expect(currentCursor(p)).toBe("a2");
  });

  it("keeps the same object when a poll brings the same next cursor (no re-render)", () => {
    const p = loaded(firstPage(), "x");
    expect(loaded(p, "x")).toBe(p);
  });
});
