import { SluiceError } from "../../core/errors.js";

/** The catalog codes a table that cannot be read fails with. */
export type TabularErrorCode = "SLUICE_ERR_PARSE" | "SLUICE_ERR_ENCODING";

/** Where in the input a problem is: a 1-based file line and/or a 1-based data row (header excluded). */
export interface TabularWhere {
  line?: number;
  row?: number;
}

/** The input is not a table this processor can read; nothing was written. Its code is from the catalog. */
export class TabularError extends SluiceError {
  declare readonly code: TabularErrorCode;
  readonly where?: TabularWhere;

  constructor(code: TabularErrorCode, message: string, where?: TabularWhere) {
    super(code, message);
    this.name = "TabularError";
    if (where) this.where = where;
  }

  /** The message with where it happened, as a failed file's reason gives it. */
  get detail(): string {
    const at = this.where?.row ? ` (data row ${this.where.row})` : this.where?.line ? ` (line ${this.where.line})` : "";
    return `${this.message}${at}`;
  }
}
