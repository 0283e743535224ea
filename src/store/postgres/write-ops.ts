import type { PoolClient } from "pg";
import type { ProcessingResult } from "../../core/processing.js";
import type { Decision, ErrorInfo, NewFile, PlacementRequest } from "../state-store.js";

/**
 * The store's mutations, one transaction each, on a client the caller has
 * opened a transaction on. They are written to be replayed safely: a commit
 * whose answer was lost (the server restarted) is retried whole, and lands
 * on the same result.
 */

const FINISHED_OWNER_STATES = new Set(["stored", "manifested", "done"]);
const UNIQUE_VIOLATION = "23505";

type Owner = { id: string; state: string; wp: string } | undefined;

/**
 * This node no longer owns the row: it was presumed dead (no heartbeat for a
 * lease) and another node adopted the file. Its work on the file stops here;
 * the adopter finishes it.
 */
export class OwnershipLostError extends Error {
  readonly code = "SLUICE_OWNERSHIP_LOST";
}

/**
 * `UPDATE files SET <set> WHERE ingest_id = $1 AND owner = <node>`: every
 * change to a row is fenced by its owner, so a node that was presumed dead
 * cannot overwrite what the node that adopted its file did.
 */
async function updateOwned(c: PoolClient, node: string, set: string, params: unknown[]): Promise<void> {
  const r = await c.query(`UPDATE files SET ${set} WHERE ingest_id = $1 AND owner = $${params.length + 1}`, [
    ...params,
    node,
  ]);
  if ((r.rowCount ?? 0) === 0) {
    throw new OwnershipLostError(`file ${String(params[0])} is no longer owned by node ${node} (adopted by another)`);
  }
}

/** Like SQLite's INSERT OR IGNORE: a replay, or a member already recorded at that position, changes nothing. */
export async function insertFile(c: PoolClient, f: NewFile, now: string, owner: string): Promise<void> {
  await c.query(
    `INSERT INTO files (ingest_id, source_path, name, device, inode, size, mtime_ms, state, sidecar_path,
       discovered_at, updated_at, archive_ingest_id, member_path, member_index, owner)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'discovered', $8, $9, $9, $10, $11, $12, $13)
     ON CONFLICT DO NOTHING`,
    [
      f.ingestId,
      f.sourcePath,
      f.name,
      f.device,
      f.inode,
      f.size,
      f.mtimeMs,
      f.sidecarPath,
      now,
      f.archiveIngestId ?? null,
      f.memberPath ?? null,
      f.memberIndex ?? null,
      owner,
    ],
  );
}

async function ownerOf(c: PoolClient, sha256: string): Promise<Owner> {
  const { rows } = await c.query<{ id: string; state: string; wp: string }>(
    `SELECT c.ingest_id AS id, f.state AS state, f.warehouse_path AS wp
       FROM contents c JOIN files f ON f.ingest_id = c.ingest_id WHERE c.sha256 = $1`,
    [sha256],
  );
  return rows[0];
}

/** Inserts the claim; false when another file holds it (the primary key, not a prior read, decides). */
async function claim(c: PoolClient, sha256: string, id: string): Promise<boolean> {
  const r = await c.query(
    "INSERT INTO contents (sha256, ingest_id) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING RETURNING 1",
    [sha256, id],
  );
  return (r.rowCount ?? 0) > 0;
}

async function pathTaken(c: PoolClient, path: string, id: string): Promise<boolean> {
  const r = await c.query(
    "SELECT 1 FROM files WHERE warehouse_path = $1 AND duplicate_of IS NULL AND ingest_id <> $2",
    [path, id],
  );
  return (r.rowCount ?? 0) > 0;
}

async function setHashed(
  c: PoolClient,
  node: string,
  v: { id: string; sha: string; wp: string; dup: string | null; at: string | null; mp: string | null; now: string },
): Promise<void> {
  await updateOwned(
    c,
    node,
    `state = 'hashed', sha256 = $2, warehouse_path = $3, duplicate_of = $4, ingested_at = $5, manifest_path = $6,
       updated_at = $7`,
    [v.id, v.sha, v.wp, v.dup, v.at, v.mp, v.now],
  );
}

/**
 * Reserves `preferred`, or `fallback` when another host took `preferred`
 * between our check and our write (the unique index catches that race).
 */
async function reservePath(
  c: PoolClient,
  id: string,
  preferred: string,
  fallback: string,
  write: (wp: string) => Promise<void>,
): Promise<string> {
  const first = (await pathTaken(c, preferred, id)) ? fallback : preferred;
  await c.query("SAVEPOINT reserve");
  try {
    await write(first);
    await c.query("RELEASE SAVEPOINT reserve");
    return first;
  } catch (err) {
    if ((err as { code?: string }).code !== UNIQUE_VIOLATION || first === fallback) throw err;
    await c.query("ROLLBACK TO SAVEPOINT reserve");
    await write(fallback);
    return fallback;
  }
}

export async function decide(
  c: PoolClient,
  file: NewFile,
  sha256: string,
  p: PlacementRequest,
  now: string,
  node: string,
): Promise<Decision> {
  const id = file.ingestId;
  await insertFile(c, file, now, node);
  let owner = await ownerOf(c, sha256);
  if (!owner && !(await claim(c, sha256, id))) owner = await ownerOf(c, sha256);
  if (owner && owner.id !== id) {
    // A duplicate is only declared once the original is safely stored; until then the caller waits.
    if (!FINISHED_OWNER_STATES.has(owner.state)) return { kind: "wait", ownerId: owner.id };
    await setHashed(c, node, {
      id,
      sha: sha256,
      wp: owner.wp,
      dup: owner.id,
      at: p.ingestedAt,
      mp: p.manifestPath,
      now,
    });
    return { kind: "duplicate", duplicateOf: owner.id, warehousePath: owner.wp };
  }
  const wp = await reservePath(c, id, `${p.partitionDir}/${p.baseName}`, `${p.partitionDir}/${p.collisionName}`, (w) =>
    setHashed(c, node, { id, sha: sha256, wp: w, dup: null, at: null, mp: null, now }),
  );
  return { kind: "new", warehousePath: wp };
}

export async function rehash(
  c: PoolClient,
  o: { id: string; sha256: string; size: number; mtimeMs: number; ingestedAt: string; manifestPath: string },
  now: string,
  node: string,
): Promise<"new" | "duplicate" | "wait"> {
  let owner = await ownerOf(c, o.sha256);
  if (owner && owner.id !== o.id && !FINISHED_OWNER_STATES.has(owner.state)) return "wait";
  await c.query("DELETE FROM contents WHERE ingest_id = $1", [o.id]);
  if (!owner || owner.id === o.id) {
    if (await claim(c, o.sha256, o.id)) {
      await updateOwned(
        c,
        node,
        `sha256 = $2, size = $3, mtime_ms = $4, duplicate_of = NULL, ingested_at = NULL, manifest_path = NULL,
           updated_at = $5`,
        [o.id, o.sha256, o.size, o.mtimeMs, now],
      );
      return "new";
    }
    // Another host claimed these bytes since we looked: the transaction is retried and sees its row.
    owner = await ownerOf(c, o.sha256);
    if (!owner || !FINISHED_OWNER_STATES.has(owner.state))
      throw Object.assign(new Error("claim race"), { code: "40001" });
  }
  await updateOwned(
    c,
    node,
    `sha256 = $2, size = $3, mtime_ms = $4, duplicate_of = $5, warehouse_path = $6, ingested_at = $7,
       manifest_path = $8, updated_at = $9`,
    [o.id, o.sha256, o.size, o.mtimeMs, owner.id, owner.wp, o.ingestedAt, o.manifestPath, now],
  );
  return "duplicate";
}

export async function markStored(
  c: PoolClient,
  o: { id: string; ingestedAt: string; manifestPath: string; processing?: ProcessingResult },
  now: string,
  node: string,
): Promise<void> {
  await updateOwned(c, node, "state = 'stored', ingested_at = $2, manifest_path = $3, updated_at = $4", [
    o.id,
    o.ingestedAt,
    o.manifestPath,
    now,
  ]);
  const p = o.processing;
  if (!p) return;
  await c.query("UPDATE files SET processing = $2 WHERE ingest_id = $1", [o.id, JSON.stringify(p.record)]);
  // An archive whose bytes are not kept gives its reserved name back; its content claim stays.
  if (p.rawDiscarded) await c.query("UPDATE files SET warehouse_path = NULL WHERE ingest_id = $1", [o.id]);
  // A replayed store (recovery) rewrites the list rather than appending to it.
  await c.query("DELETE FROM invalid_rows WHERE ingest_id = $1", [o.id]);
  if (p.invalidRows.length === 0) return;
  // One statement for all the rows (arrays unnested server-side), however many there are.
  await c.query(
    `INSERT INTO invalid_rows (ingest_id, seq, row, error)
       SELECT $1, s, r, e FROM unnest($2::int[], $3::bigint[], $4::text[]) AS t(s, r, e)`,
    [o.id, p.invalidRows.map((_r, i) => i), p.invalidRows.map((r) => r.row), p.invalidRows.map((r) => r.error)],
  );
}

export async function beginQuarantine(
  c: PoolClient,
  id: string,
  error: ErrorInfo,
  errorPath: string | null,
  now: string,
  node: string,
): Promise<void> {
  // Quarantine happens before anything is stored, so the reserved warehouse name is given back.
  await updateOwned(
    c,
    node,
    `state = 'quarantine', error_code = $2, error_message = $3, attempts = $4, error_path = $5,
       warehouse_path = NULL, updated_at = $6`,
    [id, error.code, error.message, error.attempts, errorPath, now],
  );
  await c.query("DELETE FROM contents WHERE ingest_id = $1", [id]);
}

export async function setState(c: PoolClient, id: string, state: string, now: string, node: string): Promise<void> {
  await updateOwned(c, node, "state = $2, updated_at = $3", [id, state, now]);
}

export async function reassignPath(c: PoolClient, id: string, path: string, now: string, node: string): Promise<void> {
  await updateOwned(c, node, "warehouse_path = $2, updated_at = $3", [id, path, now]);
}

export async function forget(c: PoolClient, id: string, node: string): Promise<void> {
  const r = await c.query(
    "DELETE FROM files WHERE ingest_id = $1 AND owner = $2 AND state IN ('discovered', 'hashed')",
    [id, node],
  );
  if ((r.rowCount ?? 0) > 0) await c.query("DELETE FROM contents WHERE ingest_id = $1", [id]);
}
