import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPool } from "../../src/store/postgres/connect.js";
import { migratePostgres } from "../../src/store/postgres/migrate.js";
import { POSTGRES_MIGRATIONS } from "../../src/store/postgres/migrations/index.js";
import {
  KNOWN_DIFFERENCES,
  type KnownDifference,
  SCHEMA_VERSION,
  STATE_SCHEMA,
  schemaFor,
} from "../../src/store/schema.js";
import { migrate } from "../../src/store/sqlite/migrate.js";
import { SQLITE_MIGRATIONS } from "../../src/store/sqlite/migrations/index.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { differences, introspectPostgres, introspectSqlite, normalizePredicate, show } from "./lib/schema-catalog.js";

/**
 * Issue 19: both dialects' hand-written migrations must build exactly the schema declared in src/store/schema.ts.
 * Each dialect is migrated fresh by its own runner, its catalog is read back, each column's dialect type is mapped to
 * the logical types it can hold, and every difference from `schemaFor(dialect)` is reported as one line naming the
 * dialect, the table and the column or index.
 */

const describeDifference = (d: KnownDifference) =>
  `${d.dialect}: ${d.table}.${d.kind === "index-missing" ? `index ${d.index}` : d.column}: ${d.kind}${
    d.kind === "column-type" ? ` ${d.type}` : ""
  }`;

// ---- tests ----

describe("schema declaration (src/store/schema.ts)", () => {
  it("is what the last migration of each dialect builds", () => {
    expect(SQLITE_MIGRATIONS.at(-1)?.version, "SQLite's last migration").toBe(SCHEMA_VERSION);
    expect(POSTGRES_MIGRATIONS.at(-1)?.version, "PostgreSQL's last migration").toBe(SCHEMA_VERSION);
    expect(SQLITE_MIGRATIONS.map((m) => `${m.version} ${m.name}`)).toEqual(
      POSTGRES_MIGRATIONS.map((m) => `${m.version} ${m.name}`),
    );
  });

  it("is consistent: unique names, keys and index columns that exist, predicates in normal form", () => {
    const problems: string[] = [];
    const tableNames = STATE_SCHEMA.map((t) => t.name);
    if (new Set(tableNames).size !== tableNames.length) problems.push(`duplicate table names ${show(tableNames)}`);
    const indexNames = STATE_SCHEMA.flatMap((t) => t.indexes.map((i) => i.name));
    if (new Set(indexNames).size !== indexNames.length) problems.push(`duplicate index names ${show(indexNames)}`);
    for (const t of STATE_SCHEMA) {
      const cols = t.columns.map((c) => c.name);
      if (new Set(cols).size !== cols.length) problems.push(`${t.name}: duplicate column names`);
      if (t.primaryKey.length === 0) problems.push(`${t.name}: no primary key`);
      for (const k of t.primaryKey) if (!cols.includes(k)) problems.push(`${t.name}: primary key column ${k} missing`);
      for (const k of t.primaryKey) {
        if (t.columns.find((c) => c.name === k)?.nullable) problems.push(`${t.name}.${k}: nullable primary key column`);
      }
      for (const i of t.indexes) {
        for (const c of i.columns) {
          if (!cols.includes(c.replace(/ DESC$/, ""))) problems.push(`${t.name} index ${i.name}: no column ${c}`);
        }
        if (i.where !== undefined && normalizePredicate(i.where) !== i.where) {
          problems.push(`${t.name} index ${i.name}: predicate not normalized: ${show(normalizePredicate(i.where))}`);
        }
      }
    }
    for (const d of KNOWN_DIFFERENCES) {
      const t = STATE_SCHEMA.find((x) => x.name === d.table);
      const ok =
        d.kind === "index-missing"
          ? t?.indexes.some((i) => i.name === d.index)
          : t?.columns.some((c) => c.name === d.column);
      if (!ok) problems.push(`known difference names nothing declared: ${describeDifference(d)}`);
    }
    expect(problems).toEqual([]);
  });

  it("knows exactly these differences between the dialects (closing or adding one must change this list)", () => {
    expect(KNOWN_DIFFERENCES.map(describeDifference)).toEqual([
      "sqlite: files.index files_owner_active: index-missing",
      "sqlite: claims.index claims_owner: index-missing",
      "sqlite: nodes.started_at: column-type text",
      "sqlite: nodes.heartbeat_at: column-type text",
      "sqlite: claims.lease_until: column-type text",
      "sqlite: nodes.node_id: column-nullable",
      "sqlite: claims.source_key: column-nullable",
    ]);
  });

  it("normalizes PostgreSQL's deparsed predicates to the written form", () => {
    expect(normalizePredicate("(state <> ALL (ARRAY['done'::text, 'duplicate'::text, 'failed'::text]))")).toBe(
      "state NOT IN ('done', 'duplicate', 'failed')",
    );
    expect(normalizePredicate("((duplicate_of IS NULL) AND (warehouse_path IS NOT NULL))")).toBe(
      "duplicate_of IS NULL AND warehouse_path IS NOT NULL",
    );
    expect(normalizePredicate("((a IS NULL) OR (b IS NULL)) AND (c IS NULL)")).toBe(
      "(a IS NULL OR b IS NULL) AND c IS NULL",
    );
    expect(normalizePredicate("state  not in ('done',  'or (x)')")).toBe("state NOT IN ('done', 'or (x)')");
  });
});

describe("schema parity: sqlite", () => {
  let dir: string;
  let db: Database.Database;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sluice-schema-"));
    db = new Database(join(dir, "state.db"));
    migrate(db, SQLITE_MIGRATIONS);
  });
  afterAll(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("builds exactly the declared schema", () => {
    expect(differences("sqlite", schemaFor("sqlite"), introspectSqlite(db))).toEqual([]);
  });

  it("has no views or triggers the declaration would not see", () => {
    expect(db.prepare("SELECT type, name FROM sqlite_master WHERE type IN ('view', 'trigger')").all()).toEqual([]);
  });
});

describe("schema parity: postgres", () => {
  let tdb: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    tdb = await createTestDatabase("sluice_schema");
    pool = openPool(tdb.url, 2);
    await migratePostgres(pool, POSTGRES_MIGRATIONS);
  });
  afterAll(async () => {
    await pool?.end();
    await tdb?.drop();
  });

  it("builds exactly the declared schema", async () => {
    expect(differences("postgres", schemaFor("postgres"), await introspectPostgres(pool))).toEqual([]);
  });

  it("has no views, triggers or sequences the declaration would not see", async () => {
    const { rows } = await pool.query(
      `SELECT c.relkind::text AS kind, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('v', 'm', 'S')
       UNION ALL
       SELECT 'trigger', tgname FROM pg_trigger WHERE NOT tgisinternal`,
    );
    expect(rows).toEqual([]);
  });
});
