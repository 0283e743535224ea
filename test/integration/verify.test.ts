import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runOnce, runSluice } from "../support/cli.js";
import { fixture } from "../support/fixture-files.js";
import { put, useSandboxes } from "../support/fixtures.js";
import { listFiles, type Sandbox } from "../support/sandbox.js";

/**
 * `sluice verify` on a real run's state, manifests and warehouse: clean after
 * an ingest, and each kind of drift injected by hand is found, reported and
 * (where safe) repaired.
 */

const sandbox = useSandboxes();

interface Report {
  ok: boolean;
  files: { total: number; done: number; duplicate: number };
  checked: { objects: number; outputs: number; manifest_lines: number };
  problems: { kind: string; path?: string; ingest_id?: string }[];
  repaired: { kind: string }[];
}

async function verify(s: Sandbox, ...extra: string[]): Promise<{ code: number | null; report: Report }> {
  const r = await runSluice(["verify", ...s.args, "--json", ...extra]);
  return { code: r.code, report: JSON.parse(r.stdout) as Report };
}

async function ingested(): Promise<Sandbox> {
  const s = sandbox();
  for (let i = 0; i < 30; i++) put(s.input, `f-${i}.txt`, `content ${i % 25}\n`);
  mkdirSync(s.input, { recursive: true });
  writeFileSync(join(s.input, "sensors.csv"), readFileSync(fixture("sensors/sensors_dirty.csv")));
  const r = await runOnce([...s.args, "--stability-seconds", "0", "--schema", "sensor-readings"]);
  expect(r.code).toBe(0);
  return s;
}

const manifestFile = (s: Sandbox) => join(s.manifests, listFiles(s.manifests).find((f) => f.endsWith(".jsonl"))!);
const stored = (s: Sandbox, name: string) =>
  join(s.warehouse, listFiles(s.warehouse).find((f) => f.endsWith(`/${name}`))!);

describe("sluice verify", () => {
  it("finds nothing wrong after an ingest, and checks every stored file, output and line", async () => {
    const s = await ingested();
    const { code, report } = await verify(s);
    expect(report.problems).toEqual([]);
    expect(code).toBe(0);
    expect(report.files).toMatchObject({ total: 31, done: 26, duplicate: 5 });
    expect(report.checked).toMatchObject({ objects: 26, outputs: 2, manifest_lines: 31 });
    const text = await runSluice(["verify", ...s.args]);
    expect(text.stdout).toMatch(/drift: none/);
  });

  it("reports each kind of drift, exits 1, and repairs what is safe to repair", async () => {
    const s = await ingested();
    const lines = readFileSync(manifestFile(s), "utf8").split("\n").filter(Boolean);
    const dropped = JSON.parse(lines[3] as string) as { ingest_id: string };
    const doubled = JSON.parse(lines[5] as string) as { ingest_id: string };
    writeFileSync(manifestFile(s), `${[...lines.filter((_l, i) => i !== 3), lines[5]].join("\n")}\n`);
    appendFileSync(manifestFile(s), `${JSON.stringify({ version: 1, ingest_id: "not-a-known-id" })}\n`);
    appendFileSync(stored(s, "f-7.txt"), "tampered");
    const orphan = join(s.warehouse, readdirSync(s.warehouse).find((d) => d.startsWith("ingest_date="))!, "stray.bin");
    writeFileSync(orphan, "nobody recorded me");
    const temp = join(s.warehouse, ".sluice-tmp", "left-behind");
    writeFileSync(temp, "x");

    const before = await verify(s);
    expect(before.code).toBe(1);
    const kinds = before.report.problems.map((p) => p.kind).sort();
    expect(kinds).toEqual([
      "manifest_doubled",
      "manifest_missing",
      "manifest_orphan",
      "object_mismatch",
      "orphan_object",
      "temp_file",
    ]);
    expect(before.report.problems.find((p) => p.kind === "manifest_missing")?.ingest_id).toBe(dropped.ingest_id);
    expect(before.report.problems.find((p) => p.kind === "manifest_doubled")?.ingest_id).toBe(doubled.ingest_id);
    expect(before.report.problems.find((p) => p.kind === "orphan_object")?.path).toBe(orphan);

    const repaired = await verify(s, "--repair");
    expect(repaired.report.repaired.map((p) => p.kind).sort()).toEqual(["manifest_missing", "temp_file"]);
    expect(repaired.code).toBe(1); // the rest needs a person: tampered bytes, an unknown object, doubled lines
    const after = await verify(s);
    expect(after.report.problems.map((p) => p.kind).sort()).toEqual([
      "manifest_doubled",
      "manifest_orphan",
      "object_mismatch",
      "orphan_object",
    ]);
    const rewritten = readFileSync(manifestFile(s), "utf8").split("\n").filter(Boolean);
    const ids = rewritten.map((l) => (JSON.parse(l) as { ingest_id: string }).ingest_id);
    expect(ids.filter((id) => id === dropped.ingest_id)).toHaveLength(1);
  });

  it("refuses a state path that does not exist instead of creating one", async () => {
    const s = sandbox();
    const r = await runSluice(["verify", ...s.args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no state database/);
    expect(listFiles(s.root)).toEqual([]);
  });
});
