import type { PoolClient, QueryConfig } from "pg";
import type { StoreDialect } from "../rules/store-dialect.js";
import { isTransient } from "./connect.js";

/**
 * The shared dialect: each statement of the rules is one multi-row statement (arrays unnested server-side)
 * on the batch's connection, so a batch of 128 files costs a handful of round trips and one commit. Prepared
 * by name, once per connection. Every update is fenced by `owner`: a node presumed dead cannot overwrite what
 * the node that adopted its file did.
 */
export function postgresDialect(c: PoolClient, node: string): StoreDialect {
  const q = async (name: string, text: string, values: unknown[]) =>
    (await c.query({ name: `sluice_${name}`, text, values } as QueryConfig)).rows as Record<string, unknown>[];
  const ids = async (name: string, text: string, values: unknown[]) =>
    (await q(name, text, [...values, node])).map((r) => r.ingest_id as string);
  return {
    fencing: true,
    isTransient,
    savepoint: async (name) => {
      await c.query(`SAVEPOINT ${name}`);
    },
    releaseSavepoint: async (name) => {
      await c.query(`RELEASE SAVEPOINT ${name}`);
    },
    rollbackTo: async (name) => {
      await c.query(`ROLLBACK TO SAVEPOINT ${name}`);
      await c.query(`RELEASE SAVEPOINT ${name}`);
    },
    insertFiles: async (rows) => {
      const f = rows.map((r) => r.file);
      // Like SQLite's INSERT OR IGNORE: a replay, or a member already recorded at that position, changes nothing.
      await q(
        "insert_files",
        `INSERT INTO files (ingest_id, source_path, name, device, inode, size, mtime_ms, state, sidecar_path,
           discovered_at, updated_at, archive_ingest_id, member_path, member_index, owner)
         SELECT id, sp, n, dev, ino, sz, mt, 'discovered', sc, now, now, a, mp, mi, $13
           FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::float8[],
                       $8::text[], $9::text[], $10::text[], $11::text[], $12::int[])
             AS t(id, sp, n, dev, ino, sz, mt, sc, now, a, mp, mi)
         ON CONFLICT DO NOTHING`,
        [
          f.map((x) => x.ingestId),
          f.map((x) => x.sourcePath),
          f.map((x) => x.name),
          f.map((x) => x.device),
          f.map((x) => x.inode),
          f.map((x) => x.size),
          f.map((x) => x.mtimeMs),
          f.map((x) => x.sidecarPath),
          rows.map((r) => r.now),
          f.map((x) => x.archiveIngestId ?? null),
          f.map((x) => x.memberPath ?? null),
          f.map((x) => x.memberIndex ?? null),
          node,
        ],
      );
    },
    deleteUnstored: (list) =>
      ids(
        "delete_unstored",
        `DELETE FROM files WHERE ingest_id = ANY($1::text[]) AND state IN ('discovered', 'hashed') AND owner = $2
         RETURNING ingest_id`,
        [list],
      ),
    owners: async (shas) => {
      const rows = await q(
        "owners",
        // A content whose original's row was pruned answers "pruned", with the path its content row kept.
        `SELECT c.sha256, c.ingest_id AS id, COALESCE(f.state, 'pruned') AS state,
                CASE WHEN f.ingest_id IS NULL THEN c.warehouse_path ELSE f.warehouse_path END AS wp
           FROM contents c LEFT JOIN files f ON f.ingest_id = c.ingest_id
          WHERE c.sha256 = ANY($1::text[]) AND (f.ingest_id IS NOT NULL OR c.pruned_at IS NOT NULL)`,
        [shas],
      );
      return new Map(
        rows.map((r) => [
          r.sha256 as string,
          { id: r.id as string, state: r.state as string, wp: r.wp as string | null },
        ]),
      );
    },
    claim: async (claims) => {
      // In sha order, so two nodes claiming overlapping sets wait for each other in one order (no deadlock).
      const sorted = [...claims].sort((a, b) => (a.sha < b.sha ? -1 : a.sha > b.sha ? 1 : 0));
      const rows = await q(
        "claim",
        `INSERT INTO contents (sha256, ingest_id)
           SELECT sha, id FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(sha, id, k) ORDER BY k
         ON CONFLICT (sha256) DO NOTHING RETURNING sha256`,
        [sorted.map((x) => x.sha), sorted.map((x) => x.id)],
      );
      return new Set(rows.map((r) => r.sha256 as string));
    },
    releaseClaims: async (list) => {
      await q("release_claims", "DELETE FROM contents WHERE ingest_id = ANY($1::text[])", [list]);
    },
    takenPaths: async (paths) => {
      const rows = await q(
        "taken_paths",
        // Reserved by a stored original, or by a pruned one (its content row keeps the path).
        `SELECT t.p FROM unnest($1::text[], $2::text[]) AS t(p, id)
          WHERE EXISTS (SELECT 1 FROM files f WHERE f.warehouse_path = t.p AND f.duplicate_of IS NULL AND f.ingest_id <> t.id)
             OR EXISTS (SELECT 1 FROM contents c WHERE c.warehouse_path = t.p AND c.ingest_id <> t.id)`,
        [paths.map((x) => x.path), paths.map((x) => x.id)],
      );
      return new Set(rows.map((r) => r.p as string));
    },
    setHashed: (rows) =>
      ids(
        "set_hashed",
        `UPDATE files f SET state = 'hashed', sha256 = t.sha, warehouse_path = t.wp, duplicate_of = t.dup,
           ingested_at = t.at, manifest_path = t.mp, updated_at = t.now
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
             AS t(id, sha, wp, dup, at, mp, now)
          WHERE f.ingest_id = t.id AND f.owner = $8 RETURNING f.ingest_id`,
        [
          rows.map((r) => r.id),
          rows.map((r) => r.sha),
          rows.map((r) => r.wp),
          rows.map((r) => r.dup),
          rows.map((r) => r.at),
          rows.map((r) => r.mp),
          rows.map((r) => r.now),
        ],
      ),
    setRehashed: (rows) =>
      ids(
        "set_rehashed",
        `UPDATE files f SET sha256 = t.sha, size = t.sz, mtime_ms = t.mt, duplicate_of = t.dup,
           warehouse_path = CASE WHEN t.keep THEN f.warehouse_path ELSE t.wp END, ingested_at = t.at,
           manifest_path = t.mp, updated_at = t.now
           FROM unnest($1::text[], $2::text[], $3::bigint[], $4::float8[], $5::text[], $6::text[], $7::bool[],
                       $8::text[], $9::text[], $10::text[]) AS t(id, sha, sz, mt, dup, wp, keep, at, mp, now)
          WHERE f.ingest_id = t.id AND f.owner = $11 RETURNING f.ingest_id`,
        [
          rows.map((r) => r.id),
          rows.map((r) => r.sha),
          rows.map((r) => r.size),
          rows.map((r) => r.mtimeMs),
          rows.map((r) => r.dup),
          rows.map((r) => r.wp),
          rows.map((r) => r.keepPath),
          rows.map((r) => r.at),
          rows.map((r) => r.mp),
          rows.map((r) => r.now),
        ],
      ),
    setPath: (rows) =>
      ids(
        "set_path",
        `UPDATE files f SET warehouse_path = t.wp, updated_at = t.now
           FROM unnest($1::text[], $2::text[], $3::text[]) AS t(id, wp, now)
          WHERE f.ingest_id = t.id AND f.owner = $4 RETURNING f.ingest_id`,
        [rows.map((r) => r.id), rows.map((r) => r.path), rows.map((r) => r.now)],
      ),
    setStored: (rows) =>
      ids(
        "set_stored",
        `UPDATE files f SET state = 'stored', ingested_at = t.at, manifest_path = t.mp, updated_at = t.now
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(id, at, mp, now)
          WHERE f.ingest_id = t.id AND f.owner = $5 RETURNING f.ingest_id`,
        [rows.map((r) => r.id), rows.map((r) => r.at), rows.map((r) => r.mp), rows.map((r) => r.now)],
      ),
    setProcessing: async (rows) => {
      const list = rows.map((r) => r.id);
      // An archive whose bytes are not kept gives its reserved name back; its content claim stays.
      await q(
        "set_processing",
        `UPDATE files f SET processing = t.doc, warehouse_path = CASE WHEN t.drop THEN NULL ELSE f.warehouse_path END
           FROM unnest($1::text[], $2::text[], $3::bool[]) AS t(id, doc, drop) WHERE f.ingest_id = t.id`,
        [
          list,
          rows.map((r) => JSON.stringify(r.processing.record)),
          rows.map((r) => r.processing.rawDiscarded === true),
        ],
      );
      // A replayed store (recovery) rewrites the list rather than appending to it.
      await q("clear_invalid", "DELETE FROM invalid_rows WHERE ingest_id = ANY($1::text[])", [list]);
      const inv = rows.flatMap((r) => r.processing.invalidRows.map((x, seq) => ({ id: r.id, seq, ...x })));
      if (inv.length === 0) return;
      await q(
        "add_invalid",
        `INSERT INTO invalid_rows (ingest_id, seq, row, error)
           SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[])`,
        [inv.map((x) => x.id), inv.map((x) => x.seq), inv.map((x) => x.row), inv.map((x) => x.error)],
      );
    },
    setState: (rows) =>
      ids(
        "set_state",
        `UPDATE files f SET state = t.state, updated_at = t.now
           FROM unnest($1::text[], $2::text[], $3::text[]) AS t(id, state, now)
          WHERE f.ingest_id = t.id AND f.owner = $4 RETURNING f.ingest_id`,
        [rows.map((r) => r.id), rows.map((r) => r.state), rows.map((r) => r.now)],
      ),
    setQuarantine: (rows) =>
      ids(
        "set_quarantine",
        `UPDATE files f SET state = 'quarantine', error_code = t.code, error_message = t.msg, attempts = t.n,
           error_path = t.ep, warehouse_path = NULL, updated_at = t.now
           FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[])
             AS t(id, code, msg, n, ep, now)
          WHERE f.ingest_id = t.id AND f.owner = $7 RETURNING f.ingest_id`,
        [
          rows.map((r) => r.id),
          rows.map((r) => r.error.code),
          rows.map((r) => r.error.message),
          rows.map((r) => r.error.attempts),
          rows.map((r) => r.errorPath),
          rows.map((r) => r.now),
        ],
      ),
  };
}
