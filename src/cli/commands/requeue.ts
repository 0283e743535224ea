/** `sluice requeue` (issue 21): being built. */
export async function requeueCommand(_ids: string[], _flags: Record<string, unknown>): Promise<number> {
  process.stderr.write("sluice: requeue is not built yet\n");
  return 2;
}
