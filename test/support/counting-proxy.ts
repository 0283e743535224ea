// The proxy lives in counting-proxy.mjs (plain JavaScript, types in counting-proxy.d.mts) so the benchmark can
// count requests too; tests keep importing "../support/counting-proxy.js".
export type { CountingProxy, SeenRequest } from "./counting-proxy.mjs";
export * from "./counting-proxy.mjs";
