export { aggregateParquet } from "./aggregate.js";
export { collectInvalidRows } from "./invalid-rows.js";
export { MAX_INVALID_ROWS_IN_MEMORY, statusOf, type ValidationResult, type ValidationStatus } from "./result.js";
export {
  type ColumnRule,
  type ColumnType,
  type FeedSchema,
  loadSchemaOption,
  parseFeedSchemas,
  SENSOR_READINGS,
  schemaFor,
} from "./schema.js";
