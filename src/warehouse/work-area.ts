import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";

/**
 * The local work area, needed whatever the warehouse: temp copies of sources (written while hashed, for a
 * source that cannot be renamed in, and for archive members), processing outputs being built, DuckDB's
 * spill. With a directory warehouse it lies inside it (`WAREHOUSE/.sluice-tmp`, on its filesystem, so a temp
 * copy is renamed in); with an object store it is the scratch directory. Each node of a cluster has its own:
 * recovery empties it at start, which must never touch another node's files in flight.
 */
export class WorkArea {
  constructor(readonly tmpDir: string) {}

  async open(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
  }

  tmpPathFor(ingestId: string): string {
    return join(this.tmpDir, ingestId);
  }

  /** Where a file's processing outputs are written before they are placed beside it. */
  outDirFor(ingestId: string): string {
    return join(this.tmpDir, `${ingestId}.out`);
  }

  async removeTmp(ingestId: string): Promise<void> {
    await rm(this.tmpPathFor(ingestId), { force: true });
    await rm(this.outDirFor(ingestId), { recursive: true, force: true });
  }
}
