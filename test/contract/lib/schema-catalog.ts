import type Database from "better-sqlite3";
import type pg from "pg";
import { type Dialect, KNOWN_DIFFERENCES, type LogicalType, type TableDecl } from "../../../src/store/schema.js";

/**
 * The catalogs of both dialects read back in the declaration's terms (src/store/schema.ts), and the comparison
 * that names every difference: the machinery of test/contract/schema-parity.test.ts.
 */

/** What a catalog says, in the declaration's terms (types are the logical types the dialect's type can stand for). */
export interface ActualColumn {
  name: string;
  rawType: string;
  types: readonly LogicalType[];
  nullable: boolean;
  default: string | null;
  byteOrder: boolean;
}
export interface ActualIndex {
  name: string;
  columns: string[];
  unique: boolean;
  where: string | null;
}
export interface ActualTable {
  name: string;
  columns: ActualColumn[];
  primaryKey: string[];
  indexes: ActualIndex[];
}

export const SQLITE_TYPES: Record<string, readonly LogicalType[]> = {
  TEXT: ["text", "json-text"],
  INTEGER: ["integer", "bigint"], // SQLite's INTEGER is 64-bit: it holds both
  REAL: ["real"],
};
export const POSTGRES_TYPES: Record<string, readonly LogicalType[]> = {
  text: ["text", "json-text"],
  integer: ["integer"],
  bigint: ["bigint"],
  "double precision": ["real"],
  "timestamp with time zone": ["timestamptz"],
};

// ---- predicate and default normalization (the form schema.ts documents for IndexDecl.where) ----

/** Positions of matching parentheses outside string literals, innermost first. */
export function parenPairs(s: string): [number, number][] {
  const open: number[] = [];
  const pairs: [number, number][] = [];
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === "'") quoted = !quoted;
    else if (quoted) continue;
    else if (ch === "(") open.push(i);
    else if (ch === ")") {
      const o = open.pop();
      if (o !== undefined) pairs.push([o, i]);
    }
  }
  return pairs;
}

/** Whether `s` has AND, OR or a comma outside nested parentheses and string literals. */
export function hasTopLevelJoin(s: string): boolean {
  let depth = 0;
  let quoted = false;
  let bare = "";
  for (const ch of s) {
    if (ch === "'") quoted = !quoted;
    else if (quoted) continue;
    else if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (depth === 0) bare += ch;
  }
  return /,|\b(AND|OR)\b/i.test(bare);
}

export const KEYWORDS = /\b(and|or|not|in|is|null|true|false)\b/gi;

export function normalizePredicate(sql: string): string {
  let s = sql.replace(/\s+/g, " ").trim();
  // Keywords upper case, outside string literals only.
  s = s
    .split(/('(?:[^']|'')*')/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(KEYWORDS, (k) => k.toUpperCase())))
    .join("");
  s = s.replace(/::(?:character varying|timestamp with time zone|double precision|[a-z_]+)(?:\[\])?/gi, "");
  s = s.replace(/(\w+) <> ALL \(ARRAY\[([^\]]*)\]\)/g, "$1 NOT IN ($2)");
  s = s.replace(/(\w+) = ANY \(ARRAY\[([^\]]*)\]\)/g, "$1 IN ($2)");
  // Drop parentheses that change nothing: around the whole predicate, or around a term with no AND/OR/comma of
  // its own. Parentheses after a word other than AND/OR (an IN list, a call, NOT) stay.
  for (let changed = true; changed; ) {
    changed = false;
    for (const [o, c] of parenPairs(s)) {
      const before = s.slice(0, o);
      const prev = before.match(/(\w+)\s*$/)?.[1];
      if (prev !== undefined && !/^(AND|OR)$/i.test(prev)) continue;
      const inner = s.slice(o + 1, c);
      const whole = o === 0 && c === s.length - 1;
      if (whole || !hasTopLevelJoin(inner)) {
        s = `${before}${inner}${s.slice(c + 1)}`.replace(/\s+/g, " ").trim();
        changed = true;
        break;
      }
    }
  }
  return s;
}

export function normalizeDefault(sql: string | null): string | null {
  return sql === null ? null : normalizePredicate(sql);
}

// ---- introspection ----

export function introspectSqlite(db: Database.Database): ActualTable[] {
  const tables = db
    .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
    .all() as { name: string; sql: string }[];
  const wr = new Map(
    (db.prepare("PRAGMA table_list").all() as { schema: string; name: string; wr: number }[])
      .filter((t) => t.schema === "main")
      .map((t) => [t.name, t.wr === 1]),
  );
  return tables.map((t) => {
    const info = db.prepare(`PRAGMA table_info("${t.name}")`).all() as {
      name: string;
      type: string;
      notnull: number;
      dflt_value: string | null;
      pk: number;
    }[];
    const pk = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
    // A rowid table's single INTEGER PRIMARY KEY is the rowid itself, never NULL; a WITHOUT ROWID table's primary
    // key is NOT NULL (table_info already says so); any other primary key column of a rowid table accepts NULL.
    const rowidAlias = !wr.get(t.name) && pk.length === 1 && pk[0]!.type.toUpperCase() === "INTEGER";
    const indexes = (
      db.prepare(`PRAGMA index_list("${t.name}")`).all() as {
        name: string;
        unique: number;
        origin: string;
        partial: number;
      }[]
    )
      .filter((i) => i.origin !== "pk")
      .map((i): ActualIndex => {
        const cols = (
          db.prepare(`PRAGMA index_xinfo("${i.name}")`).all() as {
            name: string | null;
            desc: number;
            coll: string;
            key: number;
          }[]
        ).filter((c) => c.key === 1);
        const sql = (
          db.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?").get(i.name) as {
            sql: string | null;
          }
        ).sql;
        const where = i.partial === 1 ? (sql?.match(/\bWHERE\b([\s\S]*)$/i)?.[1] ?? `unparsed: ${sql}`) : null;
        return {
          name: i.name,
          columns: cols.map(
            (c) =>
              `${c.name ?? "<expression>"}${c.desc ? " DESC" : ""}${c.coll === "BINARY" ? "" : ` COLLATE ${c.coll}`}`,
          ),
          unique: i.unique === 1,
          where: where === null ? null : normalizePredicate(where),
        };
      });
    return {
      name: t.name,
      // No SQLite migration declares a COLLATE, so every SQLite column compares by bytes (BINARY); a COLLATE in the
      // table's SQL turns byteOrder off for the whole table, which the comparison then reports.
      columns: info.map((c) => ({
        name: c.name,
        rawType: c.type,
        types: SQLITE_TYPES[c.type.toUpperCase()] ?? [],
        nullable: c.notnull === 0 && !(rowidAlias && c.pk === 1),
        default: normalizeDefault(c.dflt_value),
        byteOrder: !/\bCOLLATE\b/i.test(t.sql),
      })),
      primaryKey: pk.map((c) => c.name),
      indexes,
    };
  });
}

export async function introspectPostgres(pool: pg.Pool): Promise<ActualTable[]> {
  const tables = await pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
  );
  const columns = await pool.query<{
    table_name: string;
    column_name: string;
    data_type: string;
    is_nullable: "YES" | "NO";
    column_default: string | null;
    collation_name: string | null;
  }>(
    `SELECT table_name, column_name, data_type, is_nullable, column_default, collation_name
       FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`,
  );
  const indexes = await pool.query<{
    name: string;
    table_name: string;
    unique: boolean;
    primary: boolean;
    predicate: string | null;
    columns: string[];
  }>(
    `SELECT i.relname AS name, t.relname AS table_name, ix.indisunique AS unique, ix.indisprimary AS primary,
            pg_get_expr(ix.indpred, ix.indrelid) AS predicate,
            array(SELECT coalesce(a.attname, '<expression>')
                         || CASE WHEN (ix.indoption[k.ord::int - 1] & 1) = 1 THEN ' DESC' ELSE '' END
                    FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
                    LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
                   ORDER BY k.ord) AS columns
       FROM pg_index ix
       JOIN pg_class i ON i.oid = ix.indexrelid
       JOIN pg_class t ON t.oid = ix.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = current_schema()
      ORDER BY i.relname`,
  );
  return tables.rows.map(({ table_name }) => {
    const own = indexes.rows.filter((i) => i.table_name === table_name);
    return {
      name: table_name,
      columns: columns.rows
        .filter((c) => c.table_name === table_name)
        .map((c) => ({
          name: c.column_name,
          rawType: c.data_type,
          types: POSTGRES_TYPES[c.data_type] ?? [],
          nullable: c.is_nullable === "YES",
          default: normalizeDefault(c.column_default),
          // null is the database's default collation, which need not be byte order.
          byteOrder: c.collation_name === "C" || c.collation_name === "POSIX",
        })),
      primaryKey: own.find((i) => i.primary)?.columns ?? [],
      indexes: own
        .filter((i) => !i.primary)
        .map((i) => ({
          name: i.name,
          columns: i.columns,
          unique: i.unique,
          where: i.predicate === null ? null : normalizePredicate(i.predicate),
        })),
    };
  });
}

// ---- comparison ----

export const show = (v: unknown) => JSON.stringify(v);

/** The dialect's type names that stand for `type`, for failure messages. */
export const spellings = (dialect: Dialect, type: LogicalType) =>
  Object.entries(dialect === "sqlite" ? SQLITE_TYPES : POSTGRES_TYPES)
    .filter(([, logical]) => logical.includes(type))
    .map(([raw]) => raw)
    .join(" or ");

/** Every way `actual` departs from `expected`, one line each, naming the dialect, table and column or index. */
export function differences(
  dialect: Dialect,
  expected: readonly TableDecl[],
  actual: readonly ActualTable[],
): string[] {
  const out: string[] = [];
  const say = (where: string, what: string) => out.push(`${dialect}: ${where}: ${what}`);
  const byName = new Map(actual.map((t) => [t.name, t]));
  for (const t of actual) {
    if (!expected.some((e) => e.name === t.name))
      say(t.name, "table exists but src/store/schema.ts does not declare it");
  }
  for (const e of expected) {
    const t = byName.get(e.name);
    // A departure that KNOWN_DIFFERENCES covers is expected; finding the declared form instead means it was closed.
    const known = (thing: string) =>
      KNOWN_DIFFERENCES.some(
        (k) =>
          k.dialect === dialect && k.table === e.name && (k.kind === "index-missing" ? k.index : k.column) === thing,
      )
        ? ` (KNOWN_DIFFERENCES lists ${e.name}.${thing} for ${dialect}: if the migrations now agree, remove that entry)`
        : "";
    if (!t) {
      say(e.name, "table declared in src/store/schema.ts is missing");
      continue;
    }
    const names = t.columns.map((c) => c.name);
    const declaredNames = e.columns.map((c) => c.name);
    for (const n of names) if (!declaredNames.includes(n)) say(`${e.name}.${n}`, "column exists but is not declared");
    for (const n of declaredNames) if (!names.includes(n)) say(`${e.name}.${n}`, "declared column is missing");
    const common = declaredNames.filter((n) => names.includes(n));
    const actualOrder = names.filter((n) => declaredNames.includes(n));
    if (show(common) !== show(actualOrder)) {
      say(e.name, `column order ${show(actualOrder)}, declared ${show(common)}`);
    }
    for (const d of e.columns) {
      const c = t.columns.find((x) => x.name === d.name);
      if (!c) continue;
      const at = `${e.name}.${d.name}`;
      if (!c.types.includes(d.type)) {
        say(
          at,
          `${dialect} type "${c.rawType}" is not a spelling of logical ${d.type} ` +
            `(${dialect} spells it: ${spellings(dialect, d.type) || "nothing"})${known(d.name)}`,
        );
      }
      if (c.nullable !== d.nullable) {
        say(
          at,
          `${c.nullable ? "nullable" : "NOT NULL"}, declared ${d.nullable ? "nullable" : "NOT NULL"}${known(d.name)}`,
        );
      }
      if (c.default !== (d.default ?? null)) say(at, `default ${show(c.default)}, declared ${show(d.default ?? null)}`);
      // Byte order is required where declared; elsewhere SQLite is byte order anyway and PostgreSQL must not
      // declare a collation the other dialect does not have.
      if (d.byteOrder && !c.byteOrder) say(at, "does not sort by bytes, declared byteOrder");
      if (!d.byteOrder && dialect === "postgres" && c.byteOrder) say(at, 'has COLLATE "C", not declared byteOrder');
    }
    if (show(t.primaryKey) !== show(e.primaryKey)) {
      say(e.name, `primary key ${show(t.primaryKey)}, declared ${show(e.primaryKey)}`);
    }
    for (const i of t.indexes) {
      if (!e.indexes.some((d) => d.name === i.name))
        say(`${e.name} index ${i.name}`, `exists but is not declared${known(i.name)}`);
    }
    for (const d of e.indexes) {
      const i = t.indexes.find((x) => x.name === d.name);
      const at = `${e.name} index ${d.name}`;
      if (!i) {
        say(at, "declared index is missing");
        continue;
      }
      if (show(i.columns) !== show(d.columns)) say(at, `columns ${show(i.columns)}, declared ${show(d.columns)}`);
      if (i.unique !== d.unique)
        say(at, `${i.unique ? "unique" : "not unique"}, declared ${d.unique ? "unique" : "not"}`);
      if (i.where !== (d.where ?? null)) say(at, `predicate ${show(i.where)}, declared ${show(d.where ?? null)}`);
    }
  }
  return out;
}
