/** One schema change; the same numbers are used by every dialect. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export class SchemaTooNewError extends Error {}
