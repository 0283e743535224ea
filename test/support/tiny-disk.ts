import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";

/**
 * Small tmpfs mounts of a test's own (root only): disks that really fill up. Registers an afterEach that unmounts
 * every one made through the returned factory.
 */
export function useTinyDisks(): (size: string) => string {
  const mounts: string[] = [];
  afterEach(() => {
    for (const m of mounts.splice(0)) {
      execFileSync("umount", ["-l", m]);
      rmSync(m, { recursive: true, force: true });
    }
  });
  return (size) => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-tiny-"));
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
    mounts.push(dir);
    return dir;
  };
}

/** Fills `dir`'s disk until it refuses; returns the filler's path (delete it to free the space). */
export function fill(dir: string, name = "filler"): string {
  const filler = join(dir, name);
  try {
    execFileSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=4k"], { stdio: "ignore" });
  } catch {
    // dd exits non-zero at ENOSPC: that is the point.
  }
  return filler;
}
