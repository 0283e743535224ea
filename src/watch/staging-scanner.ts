import { opendir } from "node:fs/promises";
import { join } from "node:path";

export type Visit = (path: string, name: string) => Promise<void>;

const PARALLEL_VISITS = 256;

/**
 * Walks staging once, streaming directory entries (no full listing in memory)
 * and visiting regular-looking files with bounded parallelism. Entries that
 * are not files (FIFOs, sockets, symlinks) are skipped here without a stat.
 */
export async function scanStaging(
  root: string,
  recursive: boolean,
  isIgnored: (name: string) => boolean,
  visit: Visit,
  onDirectory?: (dir: string, name: string) => void,
): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  const walk = async (dir: string, prefix: string): Promise<void> => {
    let handle: Awaited<ReturnType<typeof opendir>>;
    try {
      handle = await opendir(dir, { bufferSize: 256 });
    } catch {
      return; // removed while we looked: the next scan sees the new layout
    }
    for await (const entry of handle) {
      const name = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (isIgnored(name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (recursive) {
          onDirectory?.(path, name);
          await walk(path, name);
        }
        continue;
      }
      if (!entry.isFile()) continue;
      const p = visit(path, name).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= PARALLEL_VISITS) await Promise.race(inFlight);
    }
  };
  await walk(root, "");
  await Promise.all(inFlight);
}
