import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// The user-facing documents: every relative link must reach a file of this repository, and none may leave it (a
// clone holds nothing beside it). Web links (http, https, mailto) are not files of anyone's checkout and are left
// alone. Anchors into Markdown files must name a heading that exists, as GitHub makes its ids.

const REPO = resolve(import.meta.dirname, "..", "..");
const README_MAX_LINES = 200;

function documents(): string[] {
  const docs = readdirSync(join(REPO, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => join("docs", f));
  return ["README.md", "CONTRIBUTING.md", "bench/README.md", ...docs];
}

/** The text outside fenced code blocks, one entry per line (code lines blanked: their `#` are not headings). */
function proseLines(markdown: string): string[] {
  let fence: string | null = null;
  return markdown.split("\n").map((line) => {
    const m = /^\s*(`{3,}|~{3,})/.exec(line);
    if (m?.[1]) {
      const marker = m[1].charAt(0);
      if (fence === null) fence = marker;
      else if (fence === marker) fence = null;
      return "";
    }
    return fence === null ? line : "";
  });
}

/** Link targets of inline links, images, reference definitions and HTML href/src, code spans left out. */
function linkTargets(markdown: string): string[] {
  const targets: string[] = [];
  for (const raw of proseLines(markdown)) {
    const line = raw.replace(/`[^`]*`/g, "code");
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g))
      targets.push(m[1] as string);
    const def = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(line);
    if (def?.[1]) targets.push(def[1]);
    for (const m of line.matchAll(/\b(?:href|src)="([^"]+)"/g)) targets.push(m[1] as string);
  }
  return targets;
}

/** Heading ids as GitHub makes them: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingIds(markdown: string): Set<string> {
  const ids = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m?.[1]) continue;
    const text = m[1].replace(/\[([^\]]*)\]\([^)]*\)/g, "$1");
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    ids.add(n === 0 ? base : `${base}-${n}`);
  }
  return ids;
}

/** What is wrong with one link of the document `from` (a path relative to `root`), or null. */
function linkProblem(root: string, from: string, target: string): string | null {
  if (/^(https?|mailto):/i.test(target)) return null;
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return `${target}: a ${target.split(":")[0]} link leaves the repository`;
  const [pathPart = "", anchor] = target.split("#", 2) as [string, string | undefined];
  const path = decodeURIComponent(pathPart);
  if (isAbsolute(path)) return `${target}: an absolute path leaves the repository`;
  const abs = path === "" ? join(root, from) : resolve(root, dirname(from), path);
  const rel = relative(root, abs);
  if (rel.startsWith("..") || isAbsolute(rel)) return `${target}: leaves the repository (${rel})`;
  if (!existsSync(abs)) return `${target}: no such file in the repository (${rel})`;
  if (anchor && abs.endsWith(".md") && statSync(abs).isFile()) {
    if (!headingIds(readFileSync(abs, "utf8")).has(anchor)) return `${target}: ${rel} has no heading #${anchor}`;
  }
  return null;
}

describe("the documents' links", () => {
  for (const doc of documents()) {
    it(`${doc}: every link reaches a file of the repository`, () => {
      const problems = linkTargets(readFileSync(join(REPO, doc), "utf8"))
        .map((t) => linkProblem(REPO, doc, t))
        .filter((p) => p !== null);
      expect(problems).toEqual([]);
    });
  }

  it(`README.md stays within ${README_MAX_LINES} lines`, () => {
    const lines = readFileSync(join(REPO, "README.md"), "utf8").replace(/\n$/, "").split("\n").length;
    expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
  });
});

describe("the link checker itself", () => {
  // A checker that finds nothing would pass every document: these are the mistakes it must catch.
  const doc = "docs/page.md";
  it("refuses a link out of the repository, an absolute path and a file: URL", () => {
    expect(linkProblem(REPO, doc, "../../elsewhere/NOTES.md")).toMatch(/leaves the repository/);
    expect(linkProblem(REPO, doc, "/srv/elsewhere/NOTES.md")).toMatch(/absolute path/);
    expect(linkProblem(REPO, doc, "file:///etc/passwd")).toMatch(/leaves the repository/);
  });
  it("refuses a missing file and a missing heading, accepts what exists", () => {
    expect(linkProblem(REPO, doc, "no-such-page.md")).toMatch(/no such file/);
    expect(linkProblem(REPO, "README.md", "SECURITY.md#no-such-heading")).toMatch(/no heading/);
    expect(linkProblem(REPO, "README.md", "SECURITY.md#threat-model")).toBeNull();
    expect(linkProblem(REPO, doc, "../LICENSE")).toBeNull();
    expect(linkProblem(REPO, doc, "https://example.org/")).toBeNull();
  });
  it("finds links in prose, images, tables and definitions, not in code", () => {
    const md = [
      "See [a](a.md) and ![img](images/x.png 'title').",
      "| [b](b.md#c) | `[not](code.md)` |",
      "[ref]: ref.md",
      "```sh",
      "echo [no](fenced.md)",
      "```",
      "  ```",
      "  [no](indented-fence.md)",
      "  ```",
    ].join("\n");
    expect(linkTargets(md)).toEqual(["a.md", "images/x.png", "b.md#c", "ref.md"]);
  });
  it("makes GitHub's heading ids", () => {
    const ids = headingIds("# Cross-site requests, Host and listen rules (issue 18: V2, W1, token)\n## A\n## A\n");
    expect([...ids]).toEqual(["cross-site-requests-host-and-listen-rules-issue-18-v2-w1-token", "a", "a-1"]);
  });
});
