import { statSync } from "node:fs";
import { SluiceError } from "../../core/errors.js";
import { type FeedSchema, loadSchemaOption } from "./schema.js";

interface Loaded {
  /** The file's generation when read: inode, size, mtime (ns). */
  key: string;
  feeds: readonly FeedSchema[];
}

const loaded = new Map<string, Loaded>();

/**
 * The feeds of `--schema FILE` as the file reads now: an operator fixes a schema and requeues the files it
 * failed, without restarting the service. The file is stat'ed per tabular file (a microsecond) and read again only
 * when its inode, size or mtime changed. A file that became unreadable or invalid fails the file being processed
 * with SLUICE_ERR_SCHEMA_INVALID (it can be requeued once the schema is fixed), never the service; the next change
 * is read again. The preset (`sensor-readings`) and "no schema" never change: `file` is null for them.
 */
export function liveSchemas(file: string | null, atStart: readonly FeedSchema[]): readonly FeedSchema[] {
  if (!file) return atStart;
  let key: string;
  try {
    const st = statSync(file, { bigint: true });
    key = `${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch (err) {
    throw new SluiceError(
      "SLUICE_ERR_SCHEMA_INVALID",
      `cannot read schema file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const known = loaded.get(file);
  if (known?.key === key) return known.feeds;
  let feeds: readonly FeedSchema[];
  try {
    feeds = Object.freeze(loadSchemaOption(file));
  } catch (err) {
    throw new SluiceError("SLUICE_ERR_SCHEMA_INVALID", (err as Error).message);
  }
  loaded.set(file, { key, feeds });
  return feeds;
}
