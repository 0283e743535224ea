/**
 * A failed request, said plainly; the page keeps retrying on its own. `stale`: the server has not answered for
 * longer than the page's refresh interval, so what is shown may be out of date (no new request is sent meanwhile).
 */
export function Problem({ error, stale = false }: { error: Error | null; stale?: boolean }) {
  if (error) {
    return (
      <p className="problem" role="alert">
        Could not reach sluice: {error.message}
      </p>
    );
  }
  if (!stale) return null;
  return (
    <p className="stale" role="status">
      sluice is slow to answer: what is shown may be out of date.
    </p>
  );
}
