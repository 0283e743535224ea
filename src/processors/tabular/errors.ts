export type TabularErrorCode = "SLUICE_ERR_PARSE" | "SLUICE_ERR_NOT_TABULAR" | "SLUICE_ERR_ENCODING";

/** Where in the input a problem is: a 1-based file line and/or a 1-based data row (header excluded). */
export interface TabularWhere {
  line?: number;
  row?: number;
}

/** The input is not a table this processor can read; nothing was written. */
export class TabularError extends Error {
  readonly code: TabularErrorCode;
  readonly where?: TabularWhere;

  constructor(code: TabularErrorCode, message: string, where?: TabularWhere) {
    super(message);
    this.name = "TabularError";
    this.code = code;
    if (where) this.where = where;
  }
}
