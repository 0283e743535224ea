import { createHash } from "node:crypto";

/**
 * File systems allow 255 bytes per name. The longest names sluice derives
 * from a file's own name add about 51 bytes around it (the error directory's
 * `.<timestamp>_<id>_<name>.error.json.tmp`) or 13 (the warehouse's
 * content-tagged collision name), so a name, or a path segment, is kept under
 * 200 bytes: a longer one keeps its start and extension and gets a hash of
 * the whole, so it stays recognisable and distinct.
 */
export const MAX_NAME_BYTES = 200;

export function fitName(base: string): string {
  if (Buffer.byteLength(base) <= MAX_NAME_BYTES) return base;
  const dot = base.lastIndexOf(".");
  const ext = dot > 0 && Buffer.byteLength(base.slice(dot)) <= 24 ? base.slice(dot) : "";
  const tag = `~${createHash("sha256").update(base).digest("hex").slice(0, 12)}`;
  let head = base.slice(0, base.length - ext.length);
  const room = MAX_NAME_BYTES - Buffer.byteLength(ext) - tag.length;
  // Cut by code point, never inside a UTF-8 sequence.
  while (Buffer.byteLength(head) > room) head = Array.from(head).slice(0, -1).join("");
  return `${head}${tag}${ext}`;
}
