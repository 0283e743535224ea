/** `sluice prune` (issue 21): being built. */
export async function pruneCommand(_flags: Record<string, unknown>): Promise<number> {
  process.stderr.write("sluice: prune is not built yet\n");
  return 2;
}
