/**
 * The state schema, declared once for every dialect (issue 19).
 *
 * The migrations stay hand-written per dialect (src/store/sqlite/migrations, src/store/postgres/migrations): each
 * dialect's SQL differs (COLLATE "C", BIGINT, DOUBLE PRECISION, WITHOUT ROWID...). What they build is held to this
 * declaration by test/contract/schema-parity.test.ts, which migrates a fresh database of each dialect, reads its
 * catalog back and compares it with `schemaFor(dialect)`. A new migration must update this file (and
 * SCHEMA_VERSION) in the same change, or that test fails.
 *
 * Declared here: tables, their columns in order (logical type, nullability, default, byte-order collation), primary
 * keys and secondary indexes (name, columns with DESC, uniqueness, partial predicate). Not declared: physical
 * choices of one dialect that change no row or order (SQLite's WITHOUT ROWID, index access methods).
 *
 * Where the two dialects really differ today, the difference is written down in KNOWN_DIFFERENCES rather than
 * hidden in a type mapping; the test pins that list, so it cannot grow unnoticed.
 */

export type Dialect = "sqlite" | "postgres";

/**
 * A column's meaning, spelled per dialect:
 * - `text`: SQLite TEXT, PostgreSQL text. Times in `files` are ISO-8601 text in both dialects.
 * - `json-text`: a JSON document kept as text (SQLite TEXT, PostgreSQL text, not jsonb).
 * - `integer`: values that fit 32 bits: SQLite INTEGER (64-bit anyway), PostgreSQL integer.
 * - `bigint`: 64-bit values: SQLite INTEGER, PostgreSQL bigint.
 * - `real`: a double: SQLite REAL, PostgreSQL double precision.
 * - `timestamptz`: an instant on the database's clock: PostgreSQL timestamptz; SQLite has none (KNOWN_DIFFERENCES).
 */
export type LogicalType = "text" | "json-text" | "integer" | "bigint" | "real" | "timestamptz";

export interface ColumnDecl {
  name: string;
  type: LogicalType;
  nullable: boolean;
  /** The default as SQL text (`0`), when the column has one. */
  default?: string;
  /**
   * Compared and ordered by bytes: PostgreSQL COLLATE "C" (its other text columns keep the database default);
   * SQLite's BINARY, which every SQLite column has (no SQLite migration declares a COLLATE). The API's keyset
   * cursors ORDER BY these columns, so both dialects must sort them the same way.
   */
  byteOrder?: true;
}

export interface IndexDecl {
  name: string;
  /** Key columns in order; a descending one is written `name DESC`. */
  columns: readonly string[];
  unique: boolean;
  /**
   * The partial-index predicate, normalized: single spaces, no casts, no redundant parentheses, `x NOT IN ('a', 'b')`
   * for PostgreSQL's `x <> ALL (ARRAY['a'::text, 'b'::text])`.
   */
  where?: string;
}

export interface TableDecl {
  name: string;
  columns: readonly ColumnDecl[];
  primaryKey: readonly string[];
  /** Secondary indexes; the primary key's own index is not listed. */
  indexes: readonly IndexDecl[];
  /** Created by the migration runner (src/store/{sqlite,postgres}/migrate.ts), not by a numbered migration. */
  createdByRunner?: true;
}

/** The version of the last migration of every dialect: the schema below is what that version builds. */
export const SCHEMA_VERSION = 9;

const ACTIVE = "state NOT IN ('done', 'duplicate', 'failed')";

const text = (name: string, nullable = true): ColumnDecl => ({ name, type: "text", nullable });

export const STATE_SCHEMA: readonly TableDecl[] = [
  {
    // Kept by both runners in the same shape: part of the state, so held to the same declaration.
    name: "schema_migrations",
    createdByRunner: true,
    columns: [{ name: "version", type: "integer", nullable: false }, text("name", false), text("applied_at", false)],
    primaryKey: ["version"],
    indexes: [],
  },
  {
    name: "files",
    columns: [
      // 0001
      { name: "ingest_id", type: "text", nullable: false, byteOrder: true },
      text("source_path", false),
      text("name", false),
      { name: "device", type: "bigint", nullable: false },
      { name: "inode", type: "bigint", nullable: false },
      { name: "size", type: "bigint", nullable: false },
      { name: "mtime_ms", type: "real", nullable: false },
      text("sha256"),
      text("state", false),
      text("warehouse_path"),
      text("duplicate_of"),
      text("sidecar_path"),
      text("ingested_at"),
      text("manifest_path"),
      text("error_code"),
      text("error_message"),
      text("error_path"),
      { name: "attempts", type: "integer", nullable: false, default: "0" },
      { name: "discovered_at", type: "text", nullable: false, byteOrder: true },
      text("updated_at", false),
      // 0002
      text("archive_ingest_id"),
      text("member_path"),
      { name: "member_index", type: "integer", nullable: true },
      { name: "processing", type: "json-text", nullable: true },
      // 0004
      text("owner"),
      // 0006
      text("requeued_from"),
      text("requeued_to"),
      // 0007
      { name: "generation", type: "integer", nullable: false, default: "0" },
    ],
    primaryKey: ["ingest_id"],
    indexes: [
      {
        name: "files_warehouse_path",
        columns: ["warehouse_path"],
        unique: true,
        where: "duplicate_of IS NULL AND warehouse_path IS NOT NULL",
      },
      { name: "files_active", columns: ["state"], unique: false, where: ACTIVE },
      {
        name: "files_member",
        columns: ["archive_ingest_id", "member_index"],
        unique: true,
        where: "archive_ingest_id IS NOT NULL",
      },
      { name: "files_newest", columns: ["discovered_at DESC", "ingest_id DESC"], unique: false },
      { name: "files_owner_active", columns: ["owner"], unique: false, where: ACTIVE },
      { name: "files_active_name", columns: ["name"], unique: false, where: ACTIVE },
      {
        name: "files_requeued_from",
        columns: ["requeued_from"],
        unique: true,
        where: "requeued_from IS NOT NULL",
      },
    ],
  },
  {
    name: "contents",
    columns: [
      text("sha256", false),
      text("ingest_id", false),
      // 0009 (prune): set when the original's files row is pruned; what dedupe still needs of it.
      text("warehouse_path"),
      text("ingested_at"),
      text("pruned_at"),
    ],
    primaryKey: ["sha256"],
    indexes: [
      {
        name: "contents_warehouse_path",
        columns: ["warehouse_path"],
        unique: false,
        where: "warehouse_path IS NOT NULL",
      },
    ],
  },
  {
    name: "invalid_rows",
    columns: [
      text("ingest_id", false),
      { name: "seq", type: "integer", nullable: false },
      { name: "row", type: "bigint", nullable: false },
      text("error", false),
    ],
    primaryKey: ["ingest_id", "seq"],
    indexes: [],
  },
  {
    // 0006: what `sluice requeue` handed back, until (and after) the pipeline links a new attempt to it.
    name: "requeues",
    columns: [
      text("failed_id", false),
      text("name", false),
      text("sha256"),
      text("requested_at", false),
      text("new_id"),
      text("linked_at"),
    ],
    primaryKey: ["failed_id"],
    indexes: [{ name: "requeues_pending", columns: ["name"], unique: false, where: "new_id IS NULL" }],
  },
  {
    name: "nodes",
    columns: [
      text("node_id", false),
      text("session", false),
      { name: "started_at", type: "timestamptz", nullable: false },
      { name: "heartbeat_at", type: "timestamptz", nullable: false },
    ],
    primaryKey: ["node_id"],
    indexes: [],
  },
  {
    name: "claims",
    columns: [
      text("source_key", false),
      text("owner", false),
      { name: "lease_until", type: "timestamptz", nullable: false },
    ],
    primaryKey: ["source_key"],
    indexes: [{ name: "claims_owner", columns: ["owner"], unique: false }],
  },
  {
    // 0007: every generation's processing document (reprocess).
    name: "file_history",
    columns: [
      text("ingest_id", false),
      { name: "generation", type: "integer", nullable: false },
      text("recorded_at", false),
      text("kind", false),
      { name: "processing", type: "json-text", nullable: true },
    ],
    primaryKey: ["ingest_id", "generation"],
    indexes: [],
  },
  {
    // 0007: a reprocess in flight, one per file.
    name: "reprocessing",
    columns: [
      text("ingest_id", false),
      { name: "generation", type: "integer", nullable: false },
      text("phase", false),
      text("owner", false),
      text("started_at", false),
      text("heartbeat_at", false),
      { name: "new_outputs", type: "json-text", nullable: true },
      { name: "old_outputs", type: "json-text", nullable: true },
      text("manifest_path"),
    ],
    primaryKey: ["ingest_id"],
    indexes: [],
  },
  {
    // 0008: the notification outbox, one row per (event, target) until delivered.
    name: "outbox",
    columns: [
      text("event_id", false),
      text("target", false),
      text("ingest_id", false),
      text("type", false),
      { name: "payload", type: "json-text", nullable: false },
      text("created_at", false),
      { name: "attempts", type: "integer", nullable: false, default: "0" },
      { name: "next_at", type: "bigint", nullable: false, default: "0" },
      text("last_error"),
      text("lease_owner"),
      { name: "lease_until", type: "bigint", nullable: true },
    ],
    primaryKey: ["event_id", "target"],
    indexes: [{ name: "outbox_due", columns: ["next_at"], unique: false }],
  },
];

/** One place where `dialect`'s schema departs from STATE_SCHEMA today. */
export type KnownDifference = { dialect: Dialect; table: string; why: string } & (
  | { kind: "index-missing"; index: string }
  | { kind: "column-type"; column: string; type: LogicalType }
  | { kind: "column-nullable"; column: string }
);

/**
 * Real divergences between the dialects' migrations as of SCHEMA_VERSION. All of them sit in what only the
 * PostgreSQL dialect uses (several nodes sharing the state: node ownership, nodes, claims); the SQLite dialect
 * (one node per file) never reads `files.owner` by index nor writes `nodes`/`claims`, so none changes a result
 * today. They are listed rather than mapped away so that closing one is a visible change, and adding one is too.
 */
export const KNOWN_DIFFERENCES: readonly KnownDifference[] = [
  {
    kind: "index-missing",
    dialect: "sqlite",
    table: "files",
    index: "files_owner_active",
    why: "PostgreSQL 0004 adds it for a node's own-interrupted-files query; SQLite 0004 only adds the column",
  },
  {
    kind: "index-missing",
    dialect: "sqlite",
    table: "claims",
    index: "claims_owner",
    why: "PostgreSQL 0005 indexes claims by owner; SQLite 0005 creates the table only",
  },
  ...(["nodes.started_at", "nodes.heartbeat_at", "claims.lease_until"] as const).map(
    (tc): KnownDifference => ({
      kind: "column-type",
      dialect: "sqlite",
      table: tc.split(".")[0]!,
      column: tc.split(".")[1]!,
      type: "text",
      why: "PostgreSQL 0005 uses TIMESTAMPTZ (the database's clock, now()); SQLite 0005 declares TEXT",
    }),
  ),
  ...(["nodes.node_id", "claims.source_key"] as const).map(
    (tc): KnownDifference => ({
      kind: "column-nullable",
      dialect: "sqlite",
      table: tc.split(".")[0]!,
      column: tc.split(".")[1]!,
      why:
        "a TEXT PRIMARY KEY without NOT NULL in a rowid table accepts NULL in SQLite (its legacy quirk); " +
        "PostgreSQL's primary keys are NOT NULL",
    }),
  ),
];

/** The schema `dialect`'s migrations build: STATE_SCHEMA with that dialect's KNOWN_DIFFERENCES applied. */
export function schemaFor(dialect: Dialect): TableDecl[] {
  const diffs = KNOWN_DIFFERENCES.filter((d) => d.dialect === dialect);
  return STATE_SCHEMA.map((t) => {
    const mine = diffs.filter((d) => d.table === t.name);
    return {
      ...t,
      columns: t.columns.map((c) => {
        let col = c;
        for (const d of mine) {
          if (d.kind === "column-type" && d.column === c.name) col = { ...col, type: d.type };
          if (d.kind === "column-nullable" && d.column === c.name) col = { ...col, nullable: true };
        }
        return col;
      }),
      indexes: t.indexes.filter((i) => !mine.some((d) => d.kind === "index-missing" && d.index === i.name)),
    };
  });
}
