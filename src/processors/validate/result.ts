import type { InvalidRow } from "../../core/profile.js";

export type ValidationStatus = "processed" | "partial" | "failed";

/** The outcome of checking every data row of one file. */
export interface ValidationResult {
  /** processed: no invalid row; partial: some; failed: no valid row (and at least one invalid). */
  status: ValidationStatus;
  /** Valid rows, i.e. rows in the Parquet. */
  rowCount: number;
  invalidCount: number;
  /**
   * Every invalid row in row order, `error` starting with a reason code
   * (`non_numeric_value: …`). Only a file with more than
   * {@link MAX_INVALID_ROWS_IN_MEMORY} invalid rows is cut short; the rejects
   * file always lists all of them.
   */
  invalidRows: InvalidRow[];
  /**
   * Schema'd files: `row_count`, `min_<col>`/`max_<col>` per value column and
   * per timestamp column (ISO-8601 UTC), `per_<key>_count` for the key column
   * (`sensor_id` → `per_sensor_count`). Without a schema: `row_count` only.
   */
  aggregations: Record<string, unknown>;
}

/** Bounds JS memory for a file that is garbage throughout (about 100 B per entry). */
export const MAX_INVALID_ROWS_IN_MEMORY = 1_000_000;

export function statusOf(rowCount: number, invalidCount: number): ValidationStatus {
  if (invalidCount === 0) return "processed";
  return rowCount === 0 ? "failed" : "partial";
}
