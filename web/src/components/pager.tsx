import { type CursorPager, hasNext, hasPrev, pageNumber } from "../lib/pagination";

export function Pager({ pager, onPrev, onNext }: { pager: CursorPager; onPrev(): void; onNext(): void }) {
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" onClick={onPrev} disabled={!hasPrev(pager)}>
        ← Newer
      </button>
      <span aria-live="polite">Page {pageNumber(pager)}</span>
      <button type="button" onClick={onNext} disabled={!hasNext(pager)}>
        Older →
      </button>
    </nav>
  );
}
