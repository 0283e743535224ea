import { lstat } from "node:fs/promises";
import { identityOf } from "../core/file-record.js";
import type { CompletionDetector, ReadyHandler } from "./completion-detector.js";
import { readSidecarChecksum, SIDECAR_SUFFIX } from "./sidecar-file.js";

/**
 * Sidecar mode: `NAME` is ready when `NAME.ok` exists beside it. Either may
 * appear first; observing either one checks the pair. The `.ok` itself is
 * never a candidate.
 */
export class SidecarDetector implements CompletionDetector {
  private stopped = false;

  constructor(
    private readonly onReady: ReadyHandler,
    private readonly isIgnored: (name: string) => boolean,
  ) {}

  async observe(path: string, name: string): Promise<void> {
    if (this.stopped) return;
    const isSidecar = path.endsWith(SIDECAR_SUFFIX);
    const dataPath = isSidecar ? path.slice(0, -SIDECAR_SUFFIX.length) : path;
    const dataName = isSidecar ? name.slice(0, -SIDECAR_SUFFIX.length) : name;
    // The data file's own name must pass the ignore rules (x.part.ok does not make x.part ingestible).
    if (dataName === "" || dataName.endsWith("/") || this.isIgnored(dataName)) return;
    const sidecarPath = dataPath + SIDECAR_SUFFIX;
    try {
      const [data, marker] = await Promise.all([lstat(dataPath), lstat(sidecarPath)]);
      if (!data.isFile() || !marker.isFile()) return;
      const sha256 = await readSidecarChecksum(sidecarPath);
      this.onReady({
        path: dataPath,
        name: dataName,
        identity: identityOf(data),
        sidecar: { path: sidecarPath, sha256 },
      });
    } catch {
      // One of the pair is missing (or left between the stat and the read): not ready yet.
    }
  }

  pending(): number {
    return 0;
  }

  stop(): void {
    this.stopped = true;
  }
}
