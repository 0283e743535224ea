import { describe, expect, test } from "vitest";
import { archivePipelineSuite } from "../suites/archive-pipeline-suite.js";
import { runOnce } from "../support/cli.js";
import { FIXTURE_ARCHIVES, fixtureHostileFacts } from "../support/fixture-archives.js";
import { stageFixtures } from "../support/fixture-files.js";
import { argsFor, readState, useSandboxes } from "../support/fixtures.js";
import { readParquetFacts } from "../support/outputs.js";

// Archives through the real CLI, over this project's generated archives (test/fixtures/gen/archives.ts); the
// conformance tier runs the same suite over the shared corpus. The generated set also knows every member table's
// rows and columns, so the run is checked against that too.
archivePipelineSuite(FIXTURE_ARCHIVES, {
  async normalRun({ lines, facts }) {
    const tables = new Map<string, { name: string; rows: number; columns: string[] }>();
    for (const f of Object.values(facts))
      for (const m of f.members)
        if (m.rows !== undefined && m.sha256)
          tables.set(m.sha256, { name: m.name, rows: m.rows, columns: m.columns ?? [] });
    expect(tables.size).toBeGreaterThan(20);
    for (const [sha, t] of tables) {
      // Each distinct content is converted once (its other appearances are duplicates of it).
      const converted = lines.filter((l) => l.sha256 === sha && l.status === "ingested");
      expect(converted, t.name).toHaveLength(1);
      const out = converted[0]?.processing?.outputs[0];
      expect({ name: t.name, rows: out?.row_count }).toEqual({ name: t.name, rows: t.rows });
      const parquet = await readParquetFacts(String(out?.path));
      expect({ name: t.name, rows: parquet.rows, columns: parquet.columns }).toEqual({
        name: t.name,
        rows: t.rows,
        columns: t.columns,
      });
    }
  },
});

const sandbox = useSandboxes();

describe("a damaged archive keeps what lies before the damage", () => {
  test("truncated.tar.gz: every member whole before the cut is recorded done; the archive fails", async () => {
    const cut = fixtureHostileFacts["truncated.tar.gz"] as { whole_members: string[]; cut_member: string };
    const s = sandbox();
    stageFixtures(s.input, ["archives/hostile/truncated.tar.gz"]);
    const r = await runOnce(argsFor(s, "--stability-seconds", "0"), { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const { files } = readState(s.statePath);
    const archive = files.find((f) => f.archive_ingest_id === null);
    expect([archive?.state, archive?.error_code]).toEqual(["failed", "SLUICE_ERR_ARCHIVE_CORRUPT"]);
    const members = files.filter((f) => f.archive_ingest_id === archive?.ingest_id);
    expect(members.filter((m) => m.state === "done").map((m) => m.member_path)).toEqual(cut.whole_members);
    expect(members.find((m) => m.member_path === cut.cut_member)?.state ?? "not recorded").not.toBe("done");
  });
});
