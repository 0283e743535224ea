import type { PoolClient, QueryConfig } from "pg";
import { type FileRow, type IntentRow, toIntent } from "../row-mapping.js";
import type { RequeueTarget, StoreDialect } from "../rules/store-dialect.js";
import type { RequeueIntent } from "../state-store.js";

const INTENT_COLUMNS = `failed_id AS "failedId", name, sha256, requested_at AS "requestedAt", new_id AS "newId"`;

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
    claimedElsewhere: async (names) => {
      // FOR SHARE: a node taking an expired claim over (INSERT … ON CONFLICT DO UPDATE) waits for this decision's
      // commit, and its check for a file of that name in flight (node-leases.ts claimBatch) then sees this row.
      const rows = await q(
        "claimed_elsewhere",
        "SELECT source_key, owner FROM claims WHERE source_key = ANY($1::text[]) ORDER BY source_key FOR SHARE",
        [names],
      );
      return new Set(rows.filter((r) => r.owner !== node).map((r) => r.source_key as string));
    },
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
    fileRows: async (list) =>
      (await q("file_rows", "SELECT * FROM files WHERE ingest_id = ANY($1::text[])", [list])) as unknown as FileRow[],
    insertOutbox: async (rows) => {
      await q(
        "outbox_insert",
        `INSERT INTO outbox (event_id, target, ingest_id, type, payload, created_at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
         ON CONFLICT DO NOTHING`,
        [
          rows.map((r) => r.eventId),
          rows.map((r) => r.target),
          rows.map((r) => r.ingestId),
          rows.map((r) => r.type),
          rows.map((r) => r.payload),
          rows.map((r) => r.createdAt),
        ],
      );
    },
    deleteOutbox: async (keys) => {
      await q(
        "outbox_delete",
        `DELETE FROM outbox o USING unnest($1::text[], $2::text[]) AS t(e, tg)
          WHERE o.event_id = t.e AND o.target = t.tg`,
        [keys.map((k) => k.eventId), keys.map((k) => k.target)],
      );
    },
    rescheduleOutbox: async (rows) => {
      // The next try on the database's clock, and only where this node still holds the lease: a row another node
      // took over after the lease ran out is that node's now.
      await q(
        "outbox_reschedule",
        `UPDATE outbox o SET attempts = t.n, last_error = t.err, lease_owner = NULL, lease_until = NULL,
           next_at = (extract(epoch from clock_timestamp()) * 1000)::bigint + t.delay
           FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::text[]) AS t(e, tg, n, delay, err)
          WHERE o.event_id = t.e AND o.target = t.tg AND o.lease_owner = $6`,
        [
          rows.map((r) => r.eventId),
          rows.map((r) => r.target),
          rows.map((r) => r.attempts),
          rows.map((r) => Math.round(r.delayMs)),
          rows.map((r) => r.error),
          node,
        ],
      );
    },
    fileGeneration: async (id) => {
      const [r] = await q("file_generation", "SELECT generation, state FROM files WHERE ingest_id = $1", [id]);
      return r ? { generation: Number(r.generation), state: r.state as string } : null;
    },
    insertIntent: async (r) =>
      (
        await q(
          "insert_intent",
          `INSERT INTO reprocessing (ingest_id, generation, phase, owner, started_at, heartbeat_at)
           VALUES ($1, $2, 'writing', $3, $4, $4) ON CONFLICT DO NOTHING RETURNING ingest_id`,
          [r.id, r.generation, r.owner, r.now],
        )
      ).length > 0,
    getIntent: async (id) => {
      const [r] = await q("get_intent", "SELECT * FROM reprocessing WHERE ingest_id = $1", [id]);
      return r ? toIntent(r as unknown as IntentRow) : null;
    },
    setIntent: async (r) =>
      (
        await q(
          "set_intent",
          `UPDATE reprocessing SET phase = $3, new_outputs = COALESCE($4, new_outputs),
             old_outputs = COALESCE($5, old_outputs), manifest_path = COALESCE($6, manifest_path), heartbeat_at = $7
           WHERE ingest_id = $1 AND owner = $2 RETURNING ingest_id`,
          [
            r.id,
            r.owner,
            r.phase,
            r.newOutputs ? JSON.stringify(r.newOutputs) : null,
            r.oldOutputs ? JSON.stringify(r.oldOutputs) : null,
            r.manifestPath ?? null,
            r.now,
          ],
        )
      ).length > 0,
    touchIntent: async (r) =>
      (
        await q(
          "touch_intent",
          `UPDATE reprocessing SET owner = $3, heartbeat_at = $4 WHERE ingest_id = $1 AND owner = $2
           RETURNING ingest_id`,
          [r.id, r.owner, r.newOwner, r.now],
        )
      ).length > 0,
    deleteIntent: async (id, owner) => {
      await q("delete_intent", "DELETE FROM reprocessing WHERE ingest_id = $1 AND owner = $2", [id, owner]);
    },
    historyFromFile: async (r) => {
      await q(
        "history_from_file",
        `INSERT INTO file_history (ingest_id, generation, recorded_at, kind, processing)
         SELECT ingest_id, generation, COALESCE(ingested_at, $3), $4, processing FROM files
          WHERE ingest_id = $1 AND generation = $2
         ON CONFLICT DO NOTHING`,
        [r.id, r.generation, r.now, r.kind],
      );
    },
    switchGeneration: async (r) =>
      (
        await q(
          "switch_generation",
          `UPDATE files SET generation = $2 + 1 WHERE ingest_id = $1 AND generation = $2 AND state = 'done'
           RETURNING ingest_id`,
          [r.id, r.from],
        )
      ).length > 0,
    insertHistory: async (r) => {
      await q(
        "insert_history",
        `INSERT INTO file_history (ingest_id, generation, recorded_at, kind, processing) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING`,
        [r.id, r.generation, r.now, r.kind, r.processing],
      );
    },
    requeueTarget: async (id) =>
      ((
        await q(
          "requeue_target",
          `SELECT state, name, sha256, archive_ingest_id AS "archiveIngestId", member_path AS "memberPath"
             FROM files WHERE ingest_id = $1`,
          [id],
        )
      )[0] as RequeueTarget | undefined) ?? null,
    requeueIntent: async (id) =>
      ((await q("requeue_intent", `SELECT ${INTENT_COLUMNS} FROM requeues WHERE failed_id = $1`, [id]))[0] as
        | RequeueIntent
        | undefined) ?? null,
    insertRequeue: async (i) =>
      (
        await q(
          "insert_requeue",
          `INSERT INTO requeues (failed_id, name, sha256, requested_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING RETURNING failed_id`,
          [i.failedId, i.name, i.sha256, i.requestedAt],
        )
      ).length > 0,
    deleteRequeue: async (id) =>
      (
        await q("delete_requeue", "DELETE FROM requeues WHERE failed_id = $1 AND new_id IS NULL RETURNING failed_id", [
          id,
        ])
      ).length > 0,
    pendingRequeues: async (names) =>
      (await q(
        "pending_requeues",
        `SELECT ${INTENT_COLUMNS} FROM requeues WHERE name = ANY($1::text[]) AND new_id IS NULL
          ORDER BY requested_at, failed_id`,
        [names],
      )) as unknown as RequeueIntent[],
    linkRequeues: async (links) => {
      // One statement: the intents still unlinked take their new attempt (a node deciding the same name at the
      // same moment waits on the row lock and then finds it linked), and only those rows get their links.
      const rows = await q(
        "link_requeues",
        `WITH l AS (
           UPDATE requeues r SET new_id = t.nid, linked_at = t.now
             FROM unnest($1::text[], $2::text[], $3::text[]) AS t(fid, nid, now)
            WHERE r.failed_id = t.fid AND r.new_id IS NULL RETURNING r.failed_id, r.new_id),
         a AS (UPDATE files f SET requeued_from = l.failed_id FROM l WHERE f.ingest_id = l.new_id),
         b AS (UPDATE files f SET requeued_to = l.new_id FROM l WHERE f.ingest_id = l.failed_id)
         SELECT failed_id FROM l`,
        [links.map((l) => l.failedId), links.map((l) => l.newId), links.map((l) => l.now)],
      );
      return rows.map((r) => r.failed_id as string);
    },
    unlinkRequeues: async (newIds) => {
      await q(
        "unlink_requeues",
        `WITH u AS (UPDATE requeues SET new_id = NULL, linked_at = NULL WHERE new_id = ANY($1::text[]))
         UPDATE files SET requeued_to = NULL WHERE requeued_to = ANY($1::text[])`,
        [newIds],
      );
    },
  };
}
