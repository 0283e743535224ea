import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type ArchiveEntry, ArchiveError, readArchive } from "../../src/processors/archive/index.js";

// The corpus has no zip with Unix special files, encrypted or exotic members, or a bad CRC
// on a member that inflates to the right size, so this one zip is built byte by byte.

interface Member {
  name: string;
  data?: string;
  /** Unix mode, stored in the high half of the external attributes. */
  mode?: number;
  method?: number;
  flags?: number;
  crc?: number;
  /** Declared uncompressed size when it should lie. */
  size?: number;
}

function buildZip(members: Member[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const name = Buffer.from(m.name, "utf8");
    const data = Buffer.from(m.data ?? "", "utf8");
    const crc = m.crc ?? crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(m.flags ?? 0, 6);
    local.writeUInt16LE(m.method ?? 0, 8);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(m.size ?? data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(m.flags ?? 0, 8);
    central.writeUInt16LE(m.method ?? 0, 10);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(m.size ?? data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((m.mode ?? 0o100644) * 0x10000) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(members.length, 8);
  eocd.writeUInt16LE(members.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

let dir = "";
let zipPath = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sluice-archive-test-"));
  zipPath = join(dir, "special.zip");
  writeFileSync(
    zipPath,
    buildZip([
      { name: "ok.csv", data: "a\n1\n" },
      { name: "link", data: "/etc/passwd", mode: 0o120777 },
      { name: "link/through.csv", data: "a\n2\n" },
      { name: "fifo", mode: 0o010644 },
      { name: "unixdir", mode: 0o040755 },
      { name: "enc.csv", data: "xxxxxxxxxxxx", method: 8, flags: 1 },
      { name: "bz.csv", data: "BZh9", method: 12 },
      { name: "bad_crc.csv", data: "a\n3\n", crc: 0x12345678 },
      { name: "bomb.csv", data: "tiny", method: 8, size: 4_000_000_000 },
      { name: "after.csv", data: "a\n4\n" },
    ]),
  );
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function read(e: ArchiveEntry & { kind: "file" }): Promise<{ text: string; error: unknown }> {
  let text = "";
  try {
    for await (const chunk of e.open() as AsyncIterable<Buffer>) text += chunk.toString("utf8");
    return { text, error: null };
  } catch (error) {
    return { text, error };
  }
}

describe("zip members the corpus lacks", () => {
  test("links, special files, encryption and exotic methods are rejected; CRC and declared size checked", async () => {
    const seen: string[] = [];
    const errors = new Map<string, ArchiveError>();
    for await (const e of readArchive(zipPath, "zip")) {
      if (e.kind === "rejected") {
        seen.push(`rejected ${e.rawPath}: ${e.reason}`);
        continue;
      }
      const { text, error } = await read(e);
      // A CRC can only be judged at the end, so what the stream delivered before failing is not compared.
      if (error) errors.set(e.path, error as ArchiveError);
      seen.push(`file ${e.path} ${error ? "failed" : JSON.stringify(text)}`);
    }
    expect(seen).toEqual([
      'file ok.csv "a\\n1\\n"',
      "rejected link: symbolic link",
      'rejected link/through.csv: path goes through link "link"',
      "rejected fifo: FIFO (named pipe)",
      "rejected enc.csv: encrypted member (not supported)",
      "rejected bz.csv: unsupported compression method 12 (only stored and deflate)",
      "file bad_crc.csv failed",
      "file bomb.csv failed",
      'file after.csv "a\\n4\\n"',
    ]);
    const crc = errors.get("bad_crc.csv");
    expect(crc).toBeInstanceOf(ArchiveError);
    expect(crc?.code).toBe("corrupt");
    expect(crc?.message).toMatch(/CRC-32 mismatch/);
    const bomb = errors.get("bomb.csv");
    expect(bomb?.code).toBe("limit");
    expect(bomb?.message).toMatch(/declared size/);
    expect([...errors.keys()]).toEqual(["bad_crc.csv", "bomb.csv"]);
  });
});
