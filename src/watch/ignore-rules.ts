import picomatch from "picomatch";

const ALWAYS_IGNORED_SUFFIXES = [".tmp", ".part", ".swp"];

/**
 * Names sluice never ingests: hidden files and directories (rsync and many
 * uploaders write `.name.XXXX` then rename), in-progress suffixes, and the
 * operator's own globs (matched against the base name, or the relative path
 * when the glob has a slash).
 */
export function makeIgnoreRule(globs: readonly string[]): (relPath: string) => boolean {
  const matchers = globs.map((g) => picomatch(g, { dot: true, basename: !g.includes("/") }));
  return (relPath) => {
    const segments = relPath.split("/");
    if (segments.some((s) => s.startsWith("."))) return true;
    const base = (segments.at(-1) ?? "").toLowerCase();
    if (ALWAYS_IGNORED_SUFFIXES.some((s) => base.endsWith(s))) return true;
    return matchers.some((m) => m(relPath));
  };
}
