import type { Migration } from "../../migrations.js";
import { m0001 } from "./0001-init.js";
import { m0002 } from "./0002-processing.js";
import { m0003 } from "./0003-newest-first.js";
import { m0004 } from "./0004-owners.js";
import { m0005 } from "./0005-leases.js";
import { m0006 } from "./0006-requeue.js";
import { m0007 } from "./0007-reprocess.js";
import { m0008 } from "./0008-outbox.js";
import { m0009 } from "./0009-prune.js";

/** Same numbers and meaning as the SQLite dialect's migrations. */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  m0001,
  m0002,
  m0003,
  m0004,
  m0005,
  m0006,
  m0007,
  m0008,
  m0009,
];
