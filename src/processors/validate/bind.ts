import type { StageLayout } from "./rules-sql.js";
import type { ColumnRule, FeedSchema } from "./schema.js";

/** A schema bound to one input's column names. */
export interface BoundSchema {
  /** The schema with each present column renamed to the input's spelling (SQL reads those names). */
  schema: FeedSchema;
  layout: StageLayout;
}

/**
 * Matches schema columns to input columns: exactly, else ignoring case when
 * that is unambiguous (a `Sensor_ID` header is the `sensor_id` column). The
 * output keeps the schema's spelling, so every file of a feed has the same
 * Parquet columns.
 */
export function bindSchema(schema: FeedSchema, names: string[], paddedColumns: string[] | null): BoundSchema {
  const byInput = new Map<string, ColumnRule>();
  const absent: ColumnRule[] = [];
  const bound: ColumnRule[] = [];
  for (const rule of schema.columns) {
    const folded = names.filter((n) => n.toLowerCase() === rule.name.toLowerCase());
    const hit = names.includes(rule.name) ? rule.name : folded.length === 1 ? folded[0] : undefined;
    if (hit === undefined || byInput.has(hit)) {
      absent.push(rule);
      bound.push(rule);
    } else {
      byInput.set(hit, rule);
      bound.push({ ...rule, name: hit });
    }
  }
  return {
    schema: { ...schema, columns: bound },
    layout: {
      columns: names.map((n) => {
        const rule = byInput.get(n);
        return rule ? { name: n, rule: { ...rule, name: n }, outName: rule.name } : { name: n, rule: null };
      }),
      absent,
      paddedColumns,
    },
  };
}
