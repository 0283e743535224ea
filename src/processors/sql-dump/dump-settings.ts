import type { Dialect } from "./types.js";

/** What the statements of a dump have told so far about its tool and its text; statements apply it from then on. */
export interface Settings {
  dialect: Dialect;
  /** The declared charset name, as written (`utf8mb4`, `UTF8`, `LATIN1`). */
  charset: string;
  /** MySQL's `SET TIME_ZONE='…'` (mysqldump writes `'+00:00'`): the zone TIMESTAMP values are written in. */
  timeZone?: string;
}

/** Statement heads that only one tool writes. */
const PG_SET =
  /^set\s+(?:statement_timeout|lock_timeout|idle_in_transaction_session_timeout|transaction_timeout|search_path|check_function_bodies|xmloption|client_min_messages|row_security|default_tablespace|default_table_access_method|default_with_oids)\b/i;
const MYSQL_SET = /^set\b[^;]*\b(?:autocommit|foreign_key_checks|unique_checks|sql_mode)\s*=/i;
const TSQL_SET =
  /^set\s+(?:identity_insert|ansi_nulls|quoted_identifier|nocount|ansi_padding|ansi_warnings|arithabort|xact_abort|concat_null_yields_null|numeric_roundabort|dateformat)\b/i;
const NAMES = /^set\s+names\s+'?([\w-]+)/i;
const CLIENT_ENCODING = /^set\s+(?:session\s+)?client_encoding\s*(?:=|to)\s*'?([\w-]+)/i;
const TIME_ZONE = /^set\s+(?:session\s+|@@session\.|@@)?time_zone\s*=\s*'([^']*)'/i;
const SCS = /^set\s+(?:session\s+)?standard_conforming_strings\s*(?:=|to)\s*'?(on|off)/i;

/**
 * The dialect facts and the charset a dump declares, learned from its statements (and from mysqldump's
 * `/*!40101 SET NAMES utf8mb4 *\/`, which is a comment to every other reader). The splitter owns one.
 */
export class DumpSettings {
  /** MySQL seen (backticks, conditional comments, MySQL-only SET variables, LOCK TABLES, DELIMITER). */
  mysql = false;
  /** standard_conforming_strings = off seen: backslashes escape in plain strings. */
  backslash = false;
  /** SQL Server seen (GO lines, SET IDENTITY_INSERT …, `USE [db]`, `INSERT [t]`): a line break can end a statement. */
  tsql = false;
  private pg = false;
  /** SQLite seen (`PRAGMA`): its backticks quote names, as MySQL's do, without making the dump MySQL's. */
  sqlite = false;
  charset = "utf8";
  /** The last literal `SET TIME_ZONE` (the restoring `SET TIME_ZONE=@OLD_TIME_ZONE` at the end is not one). */
  timeZone: string | null = null;

  dialect(): Dialect {
    if (this.mysql) return "mysql";
    if (this.tsql) return "sqlserver";
    if (this.sqlite) return "sqlite";
    return this.pg ? "postgres" : "generic";
  }

  /**
   * A backtick-quoted name: MySQL's, unless the dump is already known to be SQLite's, which accepts them too and
   * whose `.dump` repeats each CREATE TABLE as it was written. Taking such a dump for MySQL's would turn on
   * backslash escapes and misread every string ending in a backslash.
   */
  backtick(): void {
    if (!this.sqlite) this.mysql = true;
  }

  snapshot(): Settings {
    const settings: Settings = { dialect: this.dialect(), charset: this.charset };
    if (this.timeZone !== null) settings.timeZone = this.timeZone;
    return settings;
  }

  /** Learns from a statement (or its head: the first 256 chars are enough for every rule here). */
  learn(text: string): void {
    const c = text.charCodeAt(0) | 0x20;
    if (c === 115) this.learnSet(text);
    else if (c === 112 && /^pragma\b/i.test(text)) this.sqlite = true;
    else if ((c === 108 || c === 117) && /^(?:un)?lock\s+tables?\b/i.test(text)) this.mysql = true;
    else if (/^use\s+\[/i.test(text)) this.tsql = true;
    else if (c === 99 && /^copy\b[^;]*\bfrom\s+stdin\b/i.test(text)) this.pg = true;
  }

  /** The first line of a statement still open: SSMS batches have no `;`, so T-SQL must be known before their end. */
  learnFirstLine(line: string): void {
    if (TSQL_SET.test(line) || /^insert\s+\[/i.test(line)) this.tsql = true;
  }

  /** A mysqldump conditional comment's text after its opening: `40101 SET NAMES utf8mb4 *\/`. */
  learnConditional(text: string): void {
    this.mysql = true;
    const body = text.replace(/^\d*\s*/, "");
    const names = NAMES.exec(body);
    if (names) this.charset = names[1] as string;
    const zone = TIME_ZONE.exec(body);
    if (zone) this.timeZone = zone[1] as string;
  }

  /** psql's `\encoding NAME`. */
  learnMeta(text: string): void {
    const enc = /^\\encoding\s+'?([\w-]+)/i.exec(text);
    if (enc) {
      this.charset = enc[1] as string;
      this.pg = true;
    }
  }

  private learnSet(text: string): void {
    if (/^select\s+pg_catalog\./i.test(text)) {
      this.pg = true;
      return;
    }
    const scs = SCS.exec(text);
    if (scs) {
      this.backslash = (scs[1] as string).toLowerCase() === "off";
      this.pg = true;
      return;
    }
    const enc = CLIENT_ENCODING.exec(text);
    if (enc) {
      this.charset = enc[1] as string;
      this.pg = true;
      return;
    }
    const zone = TIME_ZONE.exec(text);
    if (zone) {
      this.timeZone = zone[1] as string;
      this.mysql = true;
      return;
    }
    const names = NAMES.exec(text);
    if (names) this.charset = names[1] as string;
    else if (PG_SET.test(text)) this.pg = true;
    // MySQL-only session variables; not `SET @x`, which T-SQL scripts use as well.
    else if (MYSQL_SET.test(text)) this.mysql = true;
    else if (TSQL_SET.test(text)) this.tsql = true;
  }
}

/** Words that start a new T-SQL statement when they begin a line (SSMS scripts end statements at line breaks). */
export const TSQL_STATEMENT_START =
  /^(?:insert|set|create|alter|drop|delete|update|use|print|exec|execute|declare|grant|deny|revoke|truncate|dbcc|begin|commit|rollback|if)$/i;

/** Batches whose body may hold statements that are not the dump's data (procedures, triggers, functions, views). */
export const TSQL_BODY_HEAD = /^(?:create|alter)\s+(?:or\s+alter\s+)?(?:proc|procedure|function|trigger|view)\b/i;
