import { createHash, randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { IntegrityError, OccupiedError, type Warehouse } from "../../../src/warehouse/warehouse.js";

/** A warehouse made fresh (its own directory or prefix) for one run of the contract. */
export interface WarehouseUnderTest {
  warehouse: Warehouse;
  /** A directory of scratch files: sources to put, and the work area the verify view reports. */
  scratch: string;
  workArea: string;
  /** Leaves an upload for `path` unfinished, as a crash mid-upload would; absent where content never lands in pieces. */
  leaveUnfinishedUpload?(path: string): Promise<void>;
  /** Can the store list unfinished uploads (s3rver cannot)? */
  listsUploads: boolean;
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/**
 * The warehouse contract at the interface: the same checks against every implementation object, without the
 * pipeline. What a new store must do to be used: placement, put (uploaded / exists / occupied / replace /
 * a changed source stores nothing), head, heldByOther, list, the verify view, stale-upload cleanup, check.
 */
export function warehouseInterfaceContract(
  name: string,
  open: () => Promise<WarehouseUnderTest | string>,
  opts: { partBytes: number },
): void {
  describe(`warehouse interface contract: ${name}`, () => {
    let w: WarehouseUnderTest;
    let skip: string | undefined;
    const at = new Date("2026-12-06T12:00:00Z");
    let n = 0;
    /** A source file of `size` random bytes and where it is placed (a fresh name each time). */
    const source = (size: number, name = `f${++n}.csv`) => {
      const body = randomBytes(size);
      const path = join(w.scratch, `src-${n}-${randomBytes(4).toString("hex")}`);
      writeFileSync(path, body);
      const meta = { sha256: sha256(body), size };
      const p = w.warehouse.placement(`dir/${name}`, meta.sha256, at);
      return { path, body, meta, target: `${p.partitionDir}/${p.baseName}`, placement: p };
    };

    beforeAll(async () => {
      const got = await open();
      if (typeof got === "string") skip = got;
      else w = got;
    }, 600_000);

    const test = (title: string, fn: () => Promise<void>) =>
      it(title, async (ctx) => {
        if (skip) ctx.skip();
        await fn();
      }, 120_000);

    test("check() passes; placement is ROOT/ingest_date=DAY/DIR/NAME with a content-tagged alternative", async () => {
      await w.warehouse.check();
      const s = source(10, "report.tar.gz");
      expect(s.placement.partitionDir).toBe(`${w.warehouse.root}/ingest_date=2026-12-06/dir`);
      expect(s.placement.baseName).toBe("report.tar.gz");
      expect(s.placement.collisionName).toBe(`report.${s.meta.sha256.slice(0, 12)}.tar.gz`);
    });

    test("put stores the bytes with their SHA-256; the same bytes again are 'exists'", async () => {
      const s = source(100_000);
      expect(await w.warehouse.heldByOther(s.target, s.meta.sha256)).toBe(false);
      expect(await w.warehouse.head(s.target)).toBeNull();
      expect(await w.warehouse.put(s.target, { path: s.path }, s.meta)).toBe("uploaded");
      expect(await w.warehouse.head(s.target)).toEqual(s.meta);
      expect(await w.warehouse.put(s.target, { path: s.path }, s.meta)).toBe("exists");
      expect(await w.warehouse.heldByOther(s.target, s.meta.sha256)).toBe(false);
    });

    test("put from a descriptor, and above one part, stores exactly the bytes", async () => {
      const s = source(opts.partBytes + 123_457);
      const fd = openSync(s.path, "r");
      try {
        expect(await w.warehouse.put(s.target, { fd }, s.meta)).toBe("uploaded");
      } finally {
        closeSync(fd);
      }
      expect(await w.warehouse.head(s.target)).toEqual(s.meta);
    });

    test("other content at the path is never written over, unless replace is asked", async () => {
      const first = source(1000);
      const other = source(2000);
      await w.warehouse.put(first.target, { path: first.path }, first.meta);
      expect(await w.warehouse.heldByOther(first.target, other.meta.sha256)).toBe(true);
      const err = await w.warehouse.put(first.target, { path: other.path }, other.meta).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OccupiedError);
      expect(await w.warehouse.head(first.target)).toEqual(first.meta);
      expect(await w.warehouse.put(first.target, { path: other.path }, other.meta, { replace: true })).toBe("uploaded");
      expect(await w.warehouse.head(first.target)).toEqual(other.meta);
    });

    test("a source that is not the hashed bytes stores nothing (IntegrityError 'source')", async () => {
      const s = source(50_000);
      writeFileSync(s.path, randomBytes(50_000)); // rewritten after it was hashed
      const err = await w.warehouse.put(s.target, { path: s.path }, s.meta).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IntegrityError);
      expect((err as IntegrityError).where).toBe("source");
      expect(await w.warehouse.head(s.target)).toBeNull();
    });

    test("fetch copies the stored bytes into a local file and hashes what it wrote; absent is null", async () => {
      const s = source(opts.partBytes + 4_321);
      await w.warehouse.put(s.target, { path: s.path }, s.meta);
      const dest = join(w.scratch, `fetched-${n}`);
      expect(await w.warehouse.fetch(s.target, dest)).toEqual(s.meta);
      expect(readFileSync(dest).equals(s.body)).toBe(true);
      // Fetched again over the first copy: written anew, not appended.
      expect(await w.warehouse.fetch(s.target, dest)).toEqual(s.meta);
      expect(readFileSync(dest).length).toBe(s.meta.size);
      expect(await w.warehouse.fetch(`${s.target}.absent`, join(w.scratch, `none-${n}`))).toBeNull();
    });

    test("remove deletes a derived output (a table of a `.tables` set too), and is safe to repeat", async () => {
      const raw = source(10);
      await w.warehouse.put(raw.target, { path: raw.path }, raw.meta);
      const out = source(20);
      const parquet = `${raw.target}.g1.parquet`;
      const table = `${raw.target}.g1.tables/public.t.parquet`;
      await w.warehouse.put(parquet, { path: out.path }, out.meta, { replace: true });
      await w.warehouse.put(table, { path: out.path }, out.meta, { replace: true });
      await w.warehouse.remove(parquet);
      await w.warehouse.remove(table);
      await w.warehouse.remove(parquet);
      expect(await w.warehouse.head(parquet)).toBeNull();
      expect(await w.warehouse.head(table)).toBeNull();
      expect(await w.warehouse.head(raw.target)).toEqual(raw.meta);
      const listed: string[] = [];
      for await (const p of w.warehouse.list()) listed.push(p);
      expect(listed.filter((p) => p.startsWith(`${raw.target}.g1`))).toEqual([]);
      if (w.warehouse.directory) {
        expect(await w.warehouse.directory.occupant(`${raw.target}.g1.tables`)).toBeNull();
      }
    });

    test("list and the verify view show every stored path and nothing of the work area", async () => {
      const s = source(10);
      await w.warehouse.put(s.target, { path: s.path }, s.meta);
      mkdirSync(w.workArea, { recursive: true });
      const temp = join(w.workArea, "left-behind");
      writeFileSync(temp, "x");
      const listed: string[] = [];
      for await (const p of w.warehouse.list()) listed.push(p);
      expect(listed).toContain(s.target);
      expect(listed.every((p) => p.startsWith(`${w.warehouse.root}/ingest_date=`))).toBe(true);
      const view = w.warehouse.view(w.workArea);
      expect(view.root).toBe(w.warehouse.root);
      const viewed: string[] = [];
      for await (const p of view.objects()) viewed.push(p);
      expect(viewed.sort()).toEqual(listed.sort());
      expect(await view.inspect(s.target)).toEqual(s.meta);
      expect(await view.exists(s.target)).toBe(true);
      expect(await view.exists(`${s.target}.absent`)).toBe(false);
      expect(await view.temps()).toEqual([temp]);
      await view.removeTemp(temp);
      expect(await view.temps()).toEqual([]);
    });

    test("stale-upload cleanup aborts unfinished uploads that `keep` does not claim, by warehouse path", async () => {
      const s = source(10);
      if (!w.leaveUnfinishedUpload) {
        expect(await w.warehouse.abortStaleUploads()).toEqual([]);
        return;
      }
      await w.leaveUnfinishedUpload(s.target);
      const asked: string[] = [];
      const kept = await w.warehouse.abortStaleUploads(async (path) => {
        asked.push(path);
        return true;
      });
      expect(kept).toEqual([]);
      if (!w.listsUploads) return;
      expect(asked).toContain(s.target);
      const aborted = await w.warehouse.abortStaleUploads();
      expect(aborted).toHaveLength(1);
      expect(s.target.endsWith(`/${aborted[0]}`)).toBe(true);
      expect(await w.warehouse.abortStaleUploads()).toEqual([]);
    });
  });
}
