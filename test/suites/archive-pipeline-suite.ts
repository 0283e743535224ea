import { cpSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, expect, test } from "vitest";
import { runOnce } from "../support/cli.js";
import { argsFor, readState, type StateRow, useSandboxes } from "../support/fixtures.js";
import type { ProcessedLine } from "../support/outputs.js";
import { listFiles, readManifest } from "../support/sandbox.js";
import {
  type ArchiveSet,
  hostileFacts,
  type NormalFacts,
  normalFacts,
  normalFiles,
  type PathAttackFact,
  pathAttacks,
} from "./archive-set.js";

function membersOf(rows: StateRow[], archiveId: string): StateRow[] {
  return rows.filter((r) => r.archive_ingest_id === archiveId);
}

/** Copies archives of the set (`normal/x.zip`, `hostile/y.tar`) into staging under `sub/`. */
function stageArchives(set: ArchiveSet, input: string, rels: string[], sub = ""): void {
  mkdirSync(join(input, sub), { recursive: true });
  for (const rel of rels) cpSync(join(set.dir, rel), join(input, sub, basename(rel)));
}

/** What the normal-archives run leaves, for checks a caller adds (the main tier checks its model's rows). */
export interface NormalRun {
  files: StateRow[];
  lines: ProcessedLine[];
  facts: NormalFacts;
}

/**
 * Archives through the real CLI: every member a file of its own with provenance, nested archives expanded,
 * `--no-keep-archives`, and hostile archives rejected or quarantined with nothing escaping. Defined once, run by
 * the main tier on the generated fixtures and by the conformance tier on the shared corpus.
 */
export function archivePipelineSuite(set: ArchiveSet, more: { normalRun?: (run: NormalRun) => Promise<void> } = {}) {
  const sandbox = useSandboxes();

  describe("archives: every member is a file of its own, with provenance", () => {
    test("the normal archives, nested ones expanded to depth 2", async () => {
      const s = sandbox();
      const facts = normalFacts(set);
      stageArchives(
        set,
        s.input,
        Object.keys(facts).map((k) => k.replace(/^archives\//, "")),
      );
      const r = await runOnce(argsFor(s, "--stability-seconds", "0"), { timeoutMs: 180_000 });
      expect(r.code, r.stderr).toBe(0);
      const { files } = readState(s.statePath);
      const lines = readManifest(s.manifests) as ProcessedLine[];
      for (const [rel, f] of Object.entries(facts)) {
        const name = rel.split("/").pop() as string;
        const archive = files.find((x) => x.name === name && x.archive_ingest_id === null);
        expect(archive?.state, name).toBe("done");
        const members = membersOf(files, archive?.ingest_id as string);
        const want = f.members.filter((m) => m.type === "file").map((m) => m.name.replace(/^\.\//, ""));
        expect(members.map((m) => m.member_path).sort(), name).toEqual([...want].sort());
        for (const m of members) {
          expect(["done", "duplicate"], `${name}!/${m.member_path}`).toContain(m.state);
          const mine = lines.filter((l) => l.ingest_id === m.ingest_id);
          expect(mine, `${name}!/${m.member_path} has one manifest line`).toHaveLength(1);
          expect(mine[0]?.archive_ingest_id).toBe(archive?.ingest_id);
          expect(mine[0]?.member_path).toBe(m.member_path);
        }
      }
      // Depth 2: the zip inside outer_with_inner_archives.tar.gz is expanded too.
      const outer = files.find((x) => x.name === "outer_with_inner_archives.tar.gz");
      const innerZip = membersOf(files, outer?.ingest_id as string).find((m) => m.member_path?.endsWith("nested.zip"));
      // (It has the same bytes as the top-level nested.zip: whichever came first was expanded, the other is its duplicate.)
      const expandedZip = innerZip?.duplicate_of ?? innerZip?.ingest_id;
      expect(membersOf(files, expandedZip as string).length).toBe(normalFiles(facts, "nested.zip").length);
      expect(innerZip?.duplicate_of ? membersOf(files, innerZip.ingest_id).length : 0).toBe(0);
      // Members that are tables are converted like any file.
      const gz = lines.find((l) => l.member_path === set.gz.member && l.status === "ingested");
      expect(gz?.processing?.outputs[0]?.row_count).toBe(set.gz.rows);
      await more.normalRun?.({ files, lines, facts });
    });
  });

  describe("--no-keep-archives", () => {
    test("stores the members only; the archive is recorded, deduplicated and leaves staging", async () => {
      const s = sandbox();
      stageArchives(set, s.input, ["normal/bundle.tar.gz", "normal/nested.zip"]);
      stageArchives(set, s.input, ["normal/bundle.tar.gz"], "again");
      const r = await runOnce(argsFor(s, "--recursive", "--stability-seconds", "0", "--no-keep-archives"), {
        timeoutMs: 120_000,
      });
      expect(r.code, r.stderr).toBe(0);
      const { files } = readState(s.statePath);
      const lines = readManifest(s.manifests) as ProcessedLine[];
      const bundles = files.filter((f) => f.name.endsWith("bundle.tar.gz"));
      expect(bundles.map((b) => b.state).sort()).toEqual(["done", "duplicate"]);
      const original = bundles.find((b) => b.state === "done") as StateRow;
      expect(original.warehouse_path).toBeNull();
      expect(JSON.parse(original.processing as string).rawKept).toBe(false);
      expect(membersOf(files, original.ingest_id)).toHaveLength(normalFiles(normalFacts(set), "bundle.tar.gz").length);
      expect(lines.find((l) => l.ingest_id === original.ingest_id)?.warehouse_path).toBe("");
      const stored = listFiles(s.warehouse).filter((f) => !f.startsWith(".sluice-tmp/"));
      expect(stored.filter((f) => /\.(zip|tar\.gz)$/.test(f))).toEqual([]);
      expect(stored.some((f) => f.endsWith(set.bundleMember))).toBe(true);
      expect(listFiles(s.input)).toEqual([]);
    });
  });

  describe("hostile archives", () => {
    test("traversal, links and devices are rejected; damaged and bomb archives are quarantined; nothing escapes", async () => {
      const s = sandbox();
      const facts = hostileFacts(set);
      stageArchives(
        set,
        s.input,
        Object.keys(facts).map((n) => `hostile/${n}`),
      );
      const r = await runOnce(argsFor(s, "--stability-seconds", "0"), { timeoutMs: 240_000 });
      expect(r.code, r.stderr).toBe(0);
      const { files } = readState(s.statePath);
      const lines = readManifest(s.manifests) as ProcessedLine[];
      const top = (name: string) => files.find((x) => x.name === name && x.archive_ingest_id === null) as StateRow;

      const attacks = pathAttacks(facts);
      expect(attacks.map(([n]) => n).sort()).toEqual(
        ["tar_abs_and_symlink.tar", "tar_dotdot_hardlink.tar.gz", "zip_slip.zip", "zip_slip_variants.zip"].sort(),
      );
      for (const [name, f] of attacks as [string, PathAttackFact][]) {
        const a = top(name);
        expect(a.state, name).toBe("done");
        const p = lines.find((l) => l.ingest_id === a.ingest_id)?.processing;
        expect(p?.status, name).toBe("partial");
        expect(p?.members?.rejected, name).toBe(f.hostile_members.length);
        const ok = membersOf(files, a.ingest_id).map((m) => m.member_path);
        expect(ok, name).toContain("ok.csv");
        for (const m of ok) expect(m, name).not.toMatch(/evil|passwd|hostname|\.\./);
      }
      for (const [name, code] of [
        ["corrupted.tar.gz", "SLUICE_ERR_ARCHIVE_CORRUPT"],
        ["truncated.tar.gz", "SLUICE_ERR_ARCHIVE_CORRUPT"],
        ["truncated.zip", "SLUICE_ERR_ARCHIVE_CORRUPT"],
        ["gzip_bomb_1GiB_zeros.gz", "SLUICE_ERR_ARCHIVE_LIMIT"],
        ["many_members_20000.zip", "SLUICE_ERR_ARCHIVE_LIMIT"],
      ]) {
        const a = top(name as string);
        expect({ name, state: a.state, code: a.error_code }).toEqual({ name, state: "failed", code });
        const doc = listFiles(s.errors).find((e) => e.endsWith(`_${name}.error.json`));
        expect(doc, `${name}.error.json`).toBeDefined();
        // Members read before the damage stay recorded, each exactly once.
        for (const m of membersOf(files, a.ingest_id)) {
          expect(["done", "duplicate", "failed"]).toContain(m.state);
          if (m.state !== "failed") expect(lines.filter((l) => l.ingest_id === m.ingest_id)).toHaveLength(1);
        }
      }
      // corrupted_crc.zip: the damaged member fails alone; the others are ingested.
      const crc = top("corrupted_crc.zip");
      const damagedName = (facts["corrupted_crc.zip"] as { damaged_member: string }).damaged_member;
      const damaged = membersOf(files, crc.ingest_id).find((m) => m.member_path === damagedName);
      expect(crc.state === "failed" || damaged?.state === "failed").toBe(true);

      // Nothing was written outside the sandbox's warehouse, errors, manifests and state.
      expect(set.outsideTargets.length).toBeGreaterThan(0);
      for (const p of set.outsideTargets) expect(existsSync(p), p).toBe(false);
      const everything = listFiles(s.root);
      for (const f of everything) {
        expect(f, f).toMatch(/^(warehouse|errors|manifests|state)\//);
        expect(f).not.toMatch(/evil/);
      }
      expect(readFileSync("/etc/hostname", "utf8").length).toBeGreaterThan(0);
    });
  });
}
