import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ERROR_CATALOG, isErrorCode, SluiceError, withHint } from "../../src/core/errors.js";
import { ArchiveError, type ArchiveErrorCode } from "../../src/processors/archive/errors.js";
import { TabularError } from "../../src/processors/tabular/errors.js";
import { NodeIdInUseError } from "../../src/store/postgres/node-leases.js";
import { OwnershipLostError } from "../../src/store/rules/fence.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function sources(dir: string): string[] {
  return (readdirSync(join(ROOT, dir), { recursive: true }) as string[])
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map((f) => join(ROOT, dir, f));
}

describe("the error catalog", () => {
  it("holds every error code the code emits (no code outside it, none matched by a string of its own)", () => {
    const outside = new Map<string, string>();
    for (const file of [...sources("src"), ...sources("web/src")]) {
      for (const m of readFileSync(file, "utf8").matchAll(
        /["'`](SLUICE_ERR_[A-Z_]+|SLUICE_[A-Z_]*LOST|SLUICE_[A-Z_]*IN_USE)["'`]/g,
      )) {
        const code = m[1] as string;
        if (!isErrorCode(code)) outside.set(code, file.slice(ROOT.length));
      }
    }
    expect(Object.fromEntries(outside)).toEqual({});
  });

  it("is documented, one row per code, in docs/errors.md", () => {
    const doc = readFileSync(join(ROOT, "docs/errors.md"), "utf8");
    const rows = [...doc.matchAll(/^\| `(SLUICE_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(rows.sort()).toEqual(Object.keys(ERROR_CATALOG).sort());
  });

  it("words every reason one way: the detail, then the hint in parentheses", () => {
    const hint = ERROR_CATALOG.SLUICE_ERR_PARSE.hint;
    expect(withHint("SLUICE_ERR_PARSE", "bad header at line 1")).toBe(`bad header at line 1 (${hint})`);
    expect(withHint("SLUICE_ERR_PARSE")).toBe(hint);
    expect(withHint("SLUICE_ERR_PARSE", "")).toBe(hint);
  });

  it("the processors' errors and the store's carry their catalog code themselves", () => {
    const t = new TabularError("SLUICE_ERR_ENCODING", "not UTF-8", { row: 3, line: 4 });
    expect(t).toBeInstanceOf(SluiceError);
    expect(t.code).toBe("SLUICE_ERR_ENCODING");
    expect(t.detail).toBe("not UTF-8 (data row 3)");
    const kinds: Record<ArchiveErrorCode, string> = {
      corrupt: "SLUICE_ERR_ARCHIVE_CORRUPT",
      truncated: "SLUICE_ERR_ARCHIVE_CORRUPT",
      limit: "SLUICE_ERR_ARCHIVE_LIMIT",
      unsupported: "SLUICE_ERR_PARSE",
    };
    for (const [kind, code] of Object.entries(kinds)) {
      const a = new ArchiveError(kind as ArchiveErrorCode, "x");
      expect(a.errorCode, kind).toBe(code);
      expect(isErrorCode(a.errorCode)).toBe(true);
    }
    expect(new OwnershipLostError("adopted")).toMatchObject({ code: "SLUICE_ERR_OWNERSHIP_LOST", retriable: false });
    expect(new NodeIdInUseError("in use")).toMatchObject({ code: "SLUICE_ERR_NODE_ID_IN_USE", retriable: false });
  });
});
