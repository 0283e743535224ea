import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { hashPath } from "../../hashing/hash-path.js";
import type { IngestContext } from "../context.js";
import { warehouseCall } from "../warehouse-calls.js";
import type { PlannedOutput } from "./outputs.js";

/** The files of one output: itself, or each file of an output directory (a SQL dump's tables) under its name. */
async function filesOf(o: PlannedOutput): Promise<{ path: string; uri: string }[]> {
  if (!o.dir) return [{ path: o.tmp, uri: o.final }];
  const names = (await readdir(o.tmp)).sort();
  return names.map((n) => ({ path: join(o.tmp, n), uri: `${o.final}/${n}` }));
}

/**
 * Puts processing outputs into an object-store warehouse, each with its own SHA-256
 * and checked like a raw file. Outputs are derived from
 * the file, so a replay after a crash replaces whatever an earlier attempt
 * left at the same key (`replace`); identical bytes are not sent again.
 */
export async function uploadOutputs(ctx: IngestContext, outputs: readonly PlannedOutput[]): Promise<void> {
  for (const o of outputs) {
    for (const f of await filesOf(o)) {
      const size = (await stat(f.path)).size;
      const sha256 = await hashPath(ctx.hasher, f.path);
      if (!sha256) throw new Error(`internal: cannot read the output ${f.path} just written`);
      await warehouseCall(ctx, "put output", f.uri, () =>
        ctx.warehouse.put(f.uri, { path: f.path }, { sha256, size }, { signal: ctx.signal, replace: true }),
      );
    }
  }
}
