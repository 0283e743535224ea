import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import type { WriteOp } from "../write-op.js";
import { applySqliteBatch, sqliteDialect } from "./dialect.js";
import { configure, prepareStatements } from "./statements.js";

/**
 * The state store's single writer, on its own thread: commits (and their WAL
 * fsyncs) happen here, so the event loop keeps hashing and moving files while
 * a batch is made durable — and the next batch gathers meanwhile.
 */
const db = new Database((workerData as { path: string }).path);
configure(db);
const dialect = sqliteDialect(db, prepareStatements(db));
// Until this arrives the main thread commits in-process (see StartupWriter).
parentPort?.postMessage({ ready: true });

parentPort?.on("message", (msg: { id: number; ops: WriteOp[] } | { close: true }) => {
  if ("close" in msg) {
    db.close();
    parentPort?.postMessage({ closed: true });
    return;
  }
  try {
    parentPort?.postMessage({ id: msg.id, results: applySqliteBatch(db, dialect, msg.ops) });
  } catch (err) {
    const e = err as { message?: string; code?: string };
    parentPort?.postMessage({ id: msg.id, failed: { error: e.message ?? String(err), code: e.code } });
  }
});
