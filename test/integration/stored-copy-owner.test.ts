import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, linkSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runOnce, runSluice } from "../support/cli.js";
import { argsFor, readState, sleep, useSandboxes } from "../support/fixtures.js";
import { listFiles, type Sandbox, sha256, warehouseFiles } from "../support/sandbox.js";

/**
 * Issue 18 (V3, W4): a stored file belongs to sluice, whoever produced it. sluice runs as root here and the
 * producer is the real unprivileged user `nobody`, writing into staging with its own processes: after
 * ingestion the producer may not write the stored copy, by its name, by a hard link it kept, or through a
 * descriptor it opened before the file was stored; and nothing stored is readable by more users than the
 * producer's file was.
 */

const sandbox = useSandboxes();
const NOBODY = Number(execFileSync("id", ["-u", "nobody"]).toString());
const NOGROUP = Number(execFileSync("id", ["-g", "nobody"]).toString());

/** A sandbox whose staging directory (and a private directory of its own) the producer `nobody` may write. */
function producerSandbox(): Sandbox & { home: string } {
  const s = sandbox();
  chmodSync(s.root, 0o755);
  const home = join(s.root, "nobody-home");
  for (const d of [s.input, home]) {
    mkdirSync(d, { recursive: true });
    chownSync(d, NOBODY, NOGROUP);
  }
  return { ...s, home };
}

/** Runs a shell command as `nobody`; returns its exit status. */
function asNobody(script: string, ...args: string[]): number {
  const r = spawnSync("sh", ["-c", script, "sh", ...args], { uid: NOBODY, gid: NOGROUP, stdio: "ignore" });
  return r.status ?? -1;
}

function stored(s: Sandbox, name: string): string {
  const rel = warehouseFiles(s.warehouse).find((f) => f.endsWith(`/${name}`));
  if (!rel) throw new Error(`${name} is not in the warehouse: ${warehouseFiles(s.warehouse).join(", ")}`);
  return join(s.warehouse, rel);
}

function mode(path: string): number {
  return statSync(path).mode & 0o7777;
}

async function ingest(s: Sandbox, ...extra: string[]) {
  const r = await runOnce(argsFor(s, ...extra));
  expect(r.code, r.stderr).toBe(0);
  expect(listFiles(s.input)).toEqual([]);
  expect(readState(s.statePath).files.every((f) => f.state === "done")).toBe(true);
  return r;
}

describe("a file written by another user is stored as sluice's own", () => {
  it("owner root, mode 0444, another inode than the producer's; nobody cannot open it for writing", async () => {
    const s = producerSandbox();
    const data = "id,value\n1,a\n2,b\n";
    expect(asNobody('printf "%s" "$2" > "$1"', join(s.input, "own2.csv"), data)).toBe(0);
    const staged = statSync(join(s.input, "own2.csv"));
    expect(staged.uid).toBe(NOBODY);
    await ingest(s);
    const path = stored(s, "own2.csv");
    const st = statSync(path);
    expect([st.uid, st.gid]).toEqual([0, 0]);
    expect(mode(path)).toBe(0o444);
    expect(st.ino).not.toBe(staged.ino);
    // The write the finding showed (rewriting wh/ingest_date=…/own2.csv in place) is refused now.
    expect(asNobody('printf x > "$1"', path)).not.toBe(0);
    expect(asNobody('printf x >> "$1"', path)).not.toBe(0);
    expect(readFileSync(path, "utf8")).toBe(data);
    // Its Parquet is sluice's too, and no wider than the source (0644 → 0444).
    const parquet = `${path}.parquet`;
    expect(statSync(parquet).uid).toBe(0);
    expect(mode(parquet)).toBe(0o444);
    expect(asNobody('printf x > "$1"', parquet)).not.toBe(0);
  });

  it("a descriptor the producer opened for writing before the file was stored cannot change the stored copy", async () => {
    const s = producerSandbox();
    const path = join(s.input, "held.bin");
    // The producer writes its file and keeps the descriptor open, then writes again once told to.
    const producer: ChildProcess = spawn(
      "sh",
      ["-c", 'exec 3>"$1"; printf original >&3; read _; printf TAMPERED >&3; exec 3>&-', "sh", path],
      { uid: NOBODY, gid: NOGROUP, stdio: ["pipe", "ignore", "ignore"] },
    );
    const exited = new Promise((resolve) => producer.on("exit", resolve));
    for (let i = 0; i < 100 && statSync(path, { throwIfNoEntry: false })?.size !== 8; i++) await sleep(50);
    await ingest(s);
    producer.stdin?.write("\n");
    producer.stdin?.end();
    await exited;
    const copy = stored(s, "held.bin");
    expect(readFileSync(copy, "utf8")).toBe("original");
    expect(readState(s.statePath).files[0]?.sha256).toBe(sha256("original"));
  });
});

describe("the mode is set before the file appears in the warehouse (crash safety)", () => {
  it.each([
    ["nobody's file (copied)", true],
    ["sluice's own file (renamed)", false],
  ])(
    "%s, SIGKILL after the rename and before `stored`: the restart finishes it, stored 0444 by root, verify clean",
    async (_label, foreign) => {
      const s = producerSandbox();
      const path = join(s.input, "killed.csv");
      if (foreign) expect(asNobody('printf "id,v\\n1,x\\n" > "$1"', path)).toBe(0);
      else writeFileSync(path, "id,v\n1,x\n");
      const killed = await runOnce(argsFor(s), { env: { SLUICE_CRASH_AT: "after-store" } });
      expect(killed.signal).toBe("SIGKILL");
      const landed = stored(s, "killed.csv");
      expect([statSync(landed).uid, mode(landed)]).toEqual([0, 0o444]);
      await ingest(s);
      expect([statSync(landed).uid, mode(landed)]).toEqual([0, 0o444]);
      expect(mode(`${landed}.parquet`)).toBe(0o444);
      const v = await runSluice(["verify", ...s.args, "--json"]);
      expect(v.code, v.stdout).toBe(0);
    },
  );
});

describe("a source with a second name is copied, never renamed", () => {
  it("nobody's hard link to its staged file: the stored copy is another inode and writes through the link miss it", async () => {
    const s = producerSandbox();
    const mine = join(s.home, "mine.bin");
    expect(asNobody('printf before > "$1" && ln "$1" "$2"', mine, join(s.input, "linked.bin"))).toBe(0);
    await ingest(s);
    const copy = stored(s, "linked.bin");
    expect(statSync(copy).ino).not.toBe(statSync(mine).ino);
    expect(asNobody('printf AFTER > "$1"', mine)).toBe(0);
    expect(readFileSync(copy, "utf8")).toBe("before");
  });

  it("a file of sluice's own user with two names is copied too; with one name it is renamed (the common case)", async () => {
    const s = sandbox();
    mkdirSync(s.input, { recursive: true });
    writeFileSync(join(s.input, "single.bin"), "single");
    writeFileSync(join(s.input, "double.bin"), "double");
    const other = join(s.root, "other-name.bin");
    linkSync(join(s.input, "double.bin"), other);
    const singleIno = statSync(join(s.input, "single.bin")).ino;
    await ingest(s);
    expect(statSync(stored(s, "single.bin")).ino).toBe(singleIno);
    expect(mode(stored(s, "single.bin"))).toBe(0o444);
    expect(statSync(stored(s, "double.bin")).ino).not.toBe(statSync(other).ino);
    writeFileSync(other, "changed");
    expect(readFileSync(stored(s, "double.bin"), "utf8")).toBe("double");
  });
});

describe("stored files and outputs are never readable by more users than the source (W4)", () => {
  it("a 0600 source: neither the stored copy nor its Parquet is group/other-readable", async () => {
    const s = producerSandbox();
    const src = join(s.input, "private.csv");
    expect(asNobody('umask 077; printf "id,v\\n1,x\\n" > "$1"', src)).toBe(0);
    expect(mode(src)).toBe(0o600);
    await ingest(s);
    const path = stored(s, "private.csv");
    expect(mode(path)).toBe(0o400);
    expect(mode(`${path}.parquet`)).toBe(0o400);
    expect(asNobody('cat "$1" >/dev/null', `${path}.parquet`)).not.toBe(0);
  });

  it("a 0600 SQL dump's table directory and a 0600 archive's member (and its Parquet) are not group/other-readable", async () => {
    const s = producerSandbox();
    const dump = join(s.input, "db.sql");
    const script =
      'umask 077; printf "CREATE TABLE t (id INTEGER);\nINSERT INTO t VALUES (1),(2);\n" > "$1"; printf "id,v\n1,x\n" > "$2/m.csv"; gzip -c "$2/m.csv" > "$3"';
    expect(asNobody(script, dump, s.home, join(s.input, "m.csv.gz"))).toBe(0);
    await ingest(s);
    const tables = `${stored(s, "db.sql")}.tables`;
    expect(mode(tables)).toBe(0o500);
    const parquets = listFiles(tables);
    expect(parquets.length).toBe(1);
    for (const f of parquets) expect(mode(join(tables, f))).toBe(0o400);
    const member = stored(s, "m.csv");
    expect(mode(member)).toBe(0o400);
    expect(mode(`${member}.parquet`)).toBe(0o400);
    expect(mode(stored(s, "m.csv.gz"))).toBe(0o400);
  });

  it("--warehouse-mode 0440 is honoured for the stored copy and its Parquet", async () => {
    const s = sandbox();
    mkdirSync(s.input, { recursive: true });
    writeFileSync(join(s.input, "grp.csv"), "id,v\n1,x\n");
    chmodSync(join(s.input, "grp.csv"), 0o644);
    await ingest(s, "--warehouse-mode", "0440");
    const path = stored(s, "grp.csv");
    expect(mode(path)).toBe(0o440);
    expect(mode(`${path}.parquet`)).toBe(0o440);
  });

  it("an invalid --warehouse-mode is refused at start", async () => {
    const s = sandbox();
    const r = await runOnce(argsFor(s, "--warehouse-mode", "0999"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/octal mode/);
    const unreadable = await runOnce(argsFor(s, "--warehouse-mode", "0044"));
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toMatch(/owner \(sluice\) must be able to read/);
  });
});
