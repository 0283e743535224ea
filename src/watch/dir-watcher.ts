import { type FSWatcher, watch } from "node:fs";
import { join } from "node:path";

/**
 * fs.watch (inotify) on each staging directory: one watch per directory, not
 * per file, so 100,000 waiting files cost nothing here. Events only say
 * "look at this name"; lost events (queue overflow) are covered by rescans.
 */
export class DirWatcher {
  private readonly watchers = new Map<string, FSWatcher>();

  constructor(
    private readonly onName: (path: string, name: string) => void,
    private readonly onLost: () => void,
  ) {}

  add(dir: string, prefix: string): void {
    if (this.watchers.has(dir)) return;
    try {
      const w = watch(dir, { persistent: true }, (_event, filename) => {
        if (filename === null) {
          this.onLost();
          return;
        }
        const f = filename.toString();
        this.onName(join(dir, f), prefix ? `${prefix}/${f}` : f);
      });
      w.on("error", () => {
        w.close();
        this.watchers.delete(dir);
        this.onLost();
      });
      this.watchers.set(dir, w);
    } catch {
      // The directory vanished or cannot be watched: rescans still cover it.
    }
  }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
