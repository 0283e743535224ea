/** `sluice reprocess` (issue 21): being built. */
export async function reprocessCommand(_ids: string[], _flags: Record<string, unknown>): Promise<number> {
  process.stderr.write("sluice: reprocess is not built yet\n");
  return 2;
}
