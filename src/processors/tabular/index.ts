export { type ConvertOptions, type ConvertResult, convertTabular } from "./convert.js";
export { type DuckOptions, openDuck, profileParquet, sqlIdent, sqlString } from "./duckdb-session.js";
export { TabularError, type TabularErrorCode, type TabularWhere } from "./errors.js";
export { type TabularFormat, tabularFormatOf } from "./format.js";
