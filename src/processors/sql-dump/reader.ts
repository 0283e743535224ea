import type { Readable } from "node:stream";
import { EventBuilder } from "./events.js";
import { type SplitItem, StatementSplitter } from "./splitter.js";
import type { SqlEvent } from "./types.js";

const UTF8_BOM = "\xef\xbb\xbf";

/**
 * Reads a SQL dump (mysqldump, pg_dump plain format, SQLite `.dump`, SQL
 * Server scripts) as it streams in, without executing anything: yields the
 * tables it declares, the rows of its INSERT statements and COPY blocks in
 * batches, and an `error` event for every statement or row that cannot be
 * read (reading then goes on). Throws only when `input` fails.
 *
 * Memory is bounded by the largest statement, not by the file.
 */
export async function* readSqlDump(input: Readable): AsyncGenerator<SqlEvent> {
  const items: SplitItem[] = [];
  const splitter = new StatementSplitter((item) => items.push(item));
  const builder = new EventBuilder();
  const events: SqlEvent[] = [];
  let start: string | null = "";
  for await (const chunk of input) {
    let text = latin1(chunk);
    if (start !== null) {
      // A BOM may straddle tiny first chunks: hold them until it can be told.
      start += text;
      if (start.length < UTF8_BOM.length && UTF8_BOM.startsWith(start)) continue;
      text = start.startsWith(UTF8_BOM) ? start.slice(UTF8_BOM.length) : start;
      start = null;
    }
    splitter.push(text);
    yield* drain(items, builder, events);
  }
  if (start) splitter.push(start);
  splitter.end();
  yield* drain(items, builder, events);
}

function* drain(items: SplitItem[], builder: EventBuilder, events: SqlEvent[]): Generator<SqlEvent> {
  for (const item of items) {
    builder.handle(item, events);
    yield* events;
    events.length = 0;
  }
  items.length = 0;
}

/** Bytes as latin1 chars (see text.ts); a stream already decoded to strings is re-encoded as UTF-8 first. */
function latin1(chunk: unknown): string {
  if (typeof chunk === "string") return Buffer.from(chunk, "utf8").toString("latin1");
  if (Buffer.isBuffer(chunk)) return chunk.toString("latin1");
  if (chunk instanceof Uint8Array)
    return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("latin1");
  throw new TypeError("readSqlDump: the input stream must yield bytes or strings");
}
