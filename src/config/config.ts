/** The configuration every module receives: its type is what resolve.ts builds from the options in schema.ts. */
export type { RunConfig } from "./resolve.js";
