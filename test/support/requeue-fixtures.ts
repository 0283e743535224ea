import { writeFileSync } from "node:fs";
import { stateRows } from "./invariants.js";
import type { Sandbox } from "./sandbox.js";

/**
 * A whole-file schema failure and its fix, for the requeue tests: with the strict schema no row of
 * READINGS_CSV is valid (`reading` is text, not a number), so the file is quarantined with
 * SLUICE_ERR_NO_VALID_ROWS; with the fixed schema (`reading` a string) every row is.
 */
export const READINGS_CSV = "id,reading\n1,high\n2,low\n3,medium\n";

export function writeSchema(path: string, fixed: boolean): void {
  const doc = {
    feeds: [
      {
        name: "readings",
        match: ["readings*.csv"],
        columns: [
          { name: "id", type: "integer" },
          { name: "reading", type: fixed ? "string" : "number" },
        ],
      },
    ],
  };
  writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`);
}

export interface RequeueRow {
  ingest_id: string;
  name: string;
  state: string;
  sha256: string | null;
  error_code: string | null;
  error_path: string | null;
  requeued_from: string | null;
  requeued_to: string | null;
  processing: string | null;
}

/** Every row of the sandbox's state (SQLite or PostgreSQL), oldest first. */
export function rowsOf(s: Sandbox): RequeueRow[] {
  return stateRows<RequeueRow>(
    s,
    `SELECT ingest_id, name, state, sha256, error_code, error_path, requeued_from, requeued_to, processing
       FROM files ORDER BY discovered_at, ingest_id`,
  );
}

/** The rows of one name. */
export function rowsNamed(s: Sandbox, name: string): RequeueRow[] {
  return rowsOf(s).filter((r) => r.name === name);
}
