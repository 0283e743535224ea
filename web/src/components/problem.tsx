/** A failed request, said plainly; the page keeps retrying on its own. */
export function Problem({ error }: { error: Error | null }) {
  if (!error) return null;
  return (
    <p className="problem" role="alert">
      Could not reach sluice: {error.message}
    </p>
  );
}
