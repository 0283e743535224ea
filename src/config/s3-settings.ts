import { type ResolvedS3Config, resolveS3Config } from "../warehouse/s3/config.js";
import type { Layers, Resolved } from "./layers.js";

/** The S3 options read through the schema (flags, SLUICE_S3_*, their old S3_* names, the file, AWS_* fallbacks). */
export type S3Keys =
  | "warehouse"
  | "s3Endpoint"
  | "s3Region"
  | "s3ForcePathStyle"
  | "s3PartSize"
  | "s3ParallelParts"
  | "s3Bucket"
  | "s3AccessKey"
  | "s3SecretKey";

/**
 * The S3 sink's settings. The schema has picked each value and knows where it came from; resolveS3Config applies
 * the S3 sink's own rules to them (bucket naming, endpoint form, credential pairing, the SDK's AWS_* credentials in
 * `.env`, AWS_CA_BUNDLE), which is why it still sees the environment and `.env`.
 */
export function resolveS3Settings(r: Resolved<S3Keys>, layers: Layers): ResolvedS3Config {
  const o = r.values;
  // An empty text value (`SLUICE_S3_ENDPOINT=`) means unset, as it did before the schema: the S3 default applies.
  const text = (k: "s3Endpoint" | "s3Region" | "s3Bucket" | "s3AccessKey" | "s3SecretKey") =>
    o[k] ? { value: o[k], from: r.from[k] } : undefined;
  return resolveS3Config(
    {
      warehouse: o.warehouse,
      endpoint: text("s3Endpoint"),
      region: text("s3Region"),
      forcePathStyle:
        r.from.s3ForcePathStyle === "default"
          ? undefined
          : { value: o.s3ForcePathStyle, from: r.from.s3ForcePathStyle },
      bucket: text("s3Bucket"),
      accessKey: text("s3AccessKey"),
      secretKey: text("s3SecretKey"),
      partSizeBytes: o.s3PartSize,
      queueSize: o.s3ParallelParts,
    },
    layers.env,
    layers.dotEnv,
  );
}
