import { Readable } from "node:stream";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { BATCH_ROWS, readSqlDump } from "../../src/processors/sql-dump/index.js";

/** A generated dump of about `mb` MB: a COPY block, then MySQL extended INSERTs, produced lazily. */
function* syntheticDump(mb: number): Generator<Buffer> {
  let bytes = 0;
  let id = 0;
  yield Buffer.from("COPY public.big (id, name, note) FROM stdin;\n");
  while (bytes < (mb * 1e6) / 2) {
    let s = "";
    for (let k = 0; k < 2000; k++, id++) s += `${id}\tname ${id}\ttext with \\t escapes ${id}\n`;
    bytes += s.length;
    yield Buffer.from(s);
  }
  yield Buffer.from("\\.\n");
  while (bytes < mb * 1e6) {
    const tuples: string[] = [];
    for (let k = 0; k < 2000; k++, id++) tuples.push(`(${id},'it\\'s ${id}',NULL,0x00ff)`);
    const s = `INSERT INTO \`other\` VALUES ${tuples.join(",")};\n`;
    bytes += s.length;
    yield Buffer.from(s);
  }
}

/** The collector, so live heap can be measured rather than heap plus not-yet-collected garbage. */
function collector(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

describe("streaming", () => {
  it("keeps live memory flat while a dump larger than the bound streams through", async () => {
    const gc = collector();
    const mb = 24;
    gc();
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    let rows = 0;
    let events = 0;
    for await (const ev of readSqlDump(Readable.from(syntheticDump(mb)))) {
      if (ev.kind === "rows") rows += ev.rows.length;
      expect(ev.kind).not.toBe("error");
      if (++events % 100 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - base);
      }
    }
    console.log(`streaming: ${mb} MB dump, ${rows} rows, peak live heap growth ${(peak / 1e6).toFixed(1)} MB`);
    expect(rows).toBeGreaterThan(400_000);
    // Holding the input alone would take more than `mb` MB.
    expect(peak).toBeLessThan((mb / 2) * 1e6);
  });

  it("reads a long statement in small chunks in linear time", async () => {
    const tuples = Array.from({ length: 100_000 }, (_, i) => `(${i},'value ${i} with; semicolon')`);
    const sql = Buffer.from(`INSERT INTO big VALUES ${tuples.join(",\n")};`);
    const chunks: Buffer[] = [];
    for (let i = 0; i < sql.length; i += 16 * 1024) chunks.push(sql.subarray(i, i + 16 * 1024));
    const start = performance.now();
    let rows = 0;
    for await (const ev of readSqlDump(Readable.from(chunks))) {
      if (ev.kind !== "rows") continue;
      expect(ev.rows.length).toBeLessThanOrEqual(BATCH_ROWS);
      rows += ev.rows.length;
    }
    const seconds = (performance.now() - start) / 1000;
    console.log(`long statement: ${(sql.length / 1e6).toFixed(1)} MB in 16 KiB chunks, ${seconds.toFixed(2)} s`);
    expect(rows).toBe(100_000);
  });

  it("skips a long statement that carries no data without keeping it", async () => {
    const body = "x := x + 1; -- 'quote\n".repeat(200_000);
    const sql = `CREATE FUNCTION f() RETURNS void AS $$\n${body}$$ LANGUAGE plpgsql;\nINSERT INTO t VALUES (1);\n`;
    const chunks = Readable.from([Buffer.from(sql)]);
    const out = [];
    for await (const ev of readSqlDump(chunks)) out.push(ev);
    expect(out).toEqual([
      { kind: "table", table: "t", columns: null },
      { kind: "rows", table: "t", columns: null, rows: [[1]], firstLine: 200_003, lines: [200_003] },
    ]);
  });
});
