import type { Migration } from "../../migrations.js";
import { m0001 } from "./0001-init.js";

export const SQLITE_MIGRATIONS: readonly Migration[] = [m0001];
