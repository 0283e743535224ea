// The S3 test servers live in s3-servers.mjs (plain JavaScript, types in s3-servers.d.mts) so the benchmark
// can start them too; tests keep importing "../support/s3-servers.js".
export type { RadosGwOptions, S3TestServer } from "./s3-servers.mjs";
export * from "./s3-servers.mjs";
