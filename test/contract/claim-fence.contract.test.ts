import { afterAll, describe, expect, it } from "vitest";
import { file, place, postgresDialect, sha, storeAll } from "./lib/store-dialects.js";

/**
 * Several nodes on one staging directory (PostgreSQL): a node stalled past its lease can have its claim on a staging
 * name taken over by another node before its file has a row. Its decision, the file's first write, must then be
 * refused (SLUICE_ERR_OWNERSHIP_LOST: the file is the other node's), or both nodes would record the one source.
 */

const pg = postgresDialect();
afterAll(() => pg.cleanup());

describe("a decision is fenced by the staging name's claim", () => {
  it("refuses the file whose name another node claimed; the batch's other files and the claimant go on", async () => {
    const a = await pg.open("node-a");
    const b = await pg.open("node-b");
    const leasesA = a.leases;
    const leasesB = b.leases;
    if (!leasesA || !leasesB) throw new Error("a shared store has leases");
    await leasesA.join();
    await leasesB.join();

    // Node A claimed both names; then (A stalled, its lease run out) node B took one of them over.
    expect(await leasesA.claimSource("taken.csv")).toBe(true);
    expect(await leasesA.claimSource("kept.csv")).toBe(true);
    const pool = (a as unknown as { pool: { query(t: string, v: unknown[]): Promise<unknown> } }).pool;
    await pool.query("UPDATE claims SET owner = $1 WHERE source_key = $2", ["node-b", "taken.csv"]);

    const lost = file("taken.csv");
    const kept = file("kept.csv");
    const [l, k] = await Promise.allSettled([
      a.decide(lost, sha("one"), place("taken.csv", "one")),
      a.decide(kept, sha("two"), place("kept.csv", "two")),
    ]);
    expect(l.status).toBe("rejected");
    expect((l as PromiseRejectedResult).reason).toMatchObject({ code: "SLUICE_ERR_OWNERSHIP_LOST" });
    expect(k).toMatchObject({ status: "fulfilled", value: { kind: "new" } });
    // Nothing of the refused file was written: no row, no content claim.
    expect(await a.get(lost.ingestId)).toBeUndefined();

    // The node that holds the name records it, as new (the bytes were never claimed by the refused decision).
    const mine = file("taken.csv");
    expect(await storeAll(b, mine, "one")).toContain("taken.csv");
    expect((await b.get(mine.ingestId))?.state).toBe("done");
  });

  it("a file with no claim at all (an upload offered directly) is decided as before", async () => {
    const a = await pg.open("node-c");
    await a.leases?.join();
    const f = file("uploaded.csv");
    expect(await a.decide(f, sha("three"), place("uploaded.csv", "three"))).toMatchObject({ kind: "new" });
  });
});
