import { SluiceError } from "../../core/errors.js";
import type { StoreDialect } from "./store-dialect.js";

/**
 * This node no longer owns the row: it was presumed dead (no heartbeat for a lease) and another node adopted
 * the file. Its work on the file stops here; the adopter finishes it.
 */
export class OwnershipLostError extends SluiceError {
  constructor(message: string) {
    super("SLUICE_ERR_OWNERSHIP_LOST", message);
    this.name = "OwnershipLostError";
  }
}

/**
 * Every change to a row of a shared store is fenced by its owner, so a node that was presumed dead cannot
 * overwrite what the node that adopted its file did: a row the update did not change fails its op (and the
 * batch is replayed op by op, so the others still land).
 */
export function checkFenced(d: StoreDialect, wanted: string[], changed: string[]): void {
  if (!d.fencing || changed.length === wanted.length) return;
  const got = new Set(changed);
  const lost = wanted.find((id) => !got.has(id));
  if (lost !== undefined)
    throw new OwnershipLostError(`file ${lost} is no longer owned by this node (adopted by another)`);
}
