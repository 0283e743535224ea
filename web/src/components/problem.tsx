/**
 * A failed request, said plainly; the page keeps retrying on its own. `stale`: the server has not answered for
 * longer than the page's refresh interval, so what is shown may be out of date (no new request is sent meanwhile).
 * `lead` says what failed: by default a read ("Could not reach sluice"); an action's refusal (a 409, a 422) names
 * the action instead, since the server was reached and answered.
 */
export function Problem({
  error,
  stale = false,
  lead = "Could not reach sluice",
}: {
  error: Error | null;
  stale?: boolean;
  lead?: string;
}) {
  if (error) {
    return (
      <p className="problem" role="alert">
        {lead}: {error.message}
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
