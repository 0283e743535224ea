import { z } from "zod";

/** What a user may write, after flag/env/.env merging; unknown keys are rejected. */
export const runOptionsSchema = z
  .object({
    input: z.string().min(1),
    warehouse: z.string().min(1),
    manifests: z.string().min(1),
    errors: z.string().min(1),
    statePath: z.string().min(1),
    state: z.string().refine((s) => s === "" || /^postgres(ql)?:\/\//.test(s), "a postgres:// or postgresql:// URL"),
    leaseSeconds: z.number().finite().min(1).max(3600),
    shutdownGraceSeconds: z.number().finite().min(0).max(86_400),
    nodeId: z.string().regex(/^$|^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "letters, digits, . _ - (at most 63)"),
    mode: z.enum(["stability", "sidecar"]),
    stabilitySeconds: z.number().finite().min(0).max(86_400),
    scanInterval: z.number().finite().positive().max(86_400),
    concurrency: z.number().int().min(1).max(1024),
    recursive: z.boolean(),
    dryRun: z.boolean(),
    logLevel: z.enum(["trace", "debug", "info", "warn", "error"]),
    once: z.boolean(),
    ignore: z.array(z.string().min(1)),
    metricsInterval: z.number().finite().min(0),
    maxAttempts: z.number().int().min(1).max(100),
    convert: z.boolean(),
    schema: z.string(),
    duckdbMemoryLimit: z
      .string()
      .regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, "a size such as 512MB or 2GB"),
    convertThreads: z.number().int().min(0).max(256),
    archiveDepth: z.number().int().min(0).max(10),
    archiveMaxMembers: z.number().int().min(1),
    archiveMaxBytes: z.number().int().min(1),
    archiveMaxRatio: z.number().finite().min(1),
    keepArchives: z.boolean(),
    warehouseMode: z
      .string()
      .regex(/^0?[0-7]{3}$/, "an octal mode such as 0444 or 0440")
      // sluice reads what it stored (recovery, verify): the owner must keep read permission.
      .refine((m) => (Number.parseInt(m, 8) & 0o400) !== 0, "the owner (sluice) must be able to read: 0400 at least"),
    scratchDir: z.string(),
    s3Endpoint: z.string(),
    s3Region: z.string(),
    s3ForcePathStyle: z.boolean(),
    s3PartSize: z
      .number()
      .int()
      .min(5 * 1024 * 1024, "at least 5 MiB (5242880)"),
    s3ParallelParts: z.number().int().min(1).max(64),
  })
  .strict();
