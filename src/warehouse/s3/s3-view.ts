import { rm } from "node:fs/promises";
import { sep } from "node:path";
import { walkFiles } from "../walk.js";
import type { StoredObject, WarehouseView } from "../warehouse.js";
import type { S3Warehouse } from "./s3-warehouse.js";

/** An S3 warehouse as `sluice verify` reads it: objects are keys under the prefix; the scratch directory is the work area. */
export class S3WarehouseView implements WarehouseView {
  readonly root: string;

  constructor(
    private readonly s3: S3Warehouse,
    private readonly scratch: string,
  ) {
    this.root = s3.root;
  }

  inspect(path: string): Promise<StoredObject | null> {
    return this.s3.head(path);
  }

  async exists(path: string): Promise<boolean> {
    return (await this.s3.head(path)) !== null;
  }

  objects(): AsyncIterable<string> {
    return this.s3.list();
  }

  async temps(): Promise<string[]> {
    const out: string[] = [];
    for await (const p of walkFiles(this.scratch, () => false)) out.push(p);
    return out;
  }

  async removeTemp(path: string): Promise<void> {
    if (!path.startsWith(this.scratch + sep)) throw new Error(`refusing to remove ${path}: not in the scratch area`);
    await rm(path, { force: true });
  }
}
