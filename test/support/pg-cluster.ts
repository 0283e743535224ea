// The throw-away PostgreSQL servers live in pg-cluster.mjs (plain JavaScript, types in pg-cluster.d.mts) so the
// torture script can start them too; tests keep importing "../support/pg-cluster.js".
export type { PgCluster } from "./pg-cluster.mjs";
export * from "./pg-cluster.mjs";
