import { SluiceError } from "../core/errors.js";
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

/** The names resolveS3Config would otherwise read itself: the schema has already decided among them. */
const DECIDED = [
  "S3_ENDPOINT",
  "AWS_ENDPOINT_URL_S3",
  "AWS_ENDPOINT_URL",
  "S3_REGION",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "S3_FORCE_PATH_STYLE",
  "S3_BUCKET",
  "S3_ACCESS_KEY",
  "S3_SECRET_KEY",
];

function without<T extends Record<string, unknown>>(vars: T): T {
  const copy = { ...vars };
  for (const name of DECIDED) delete copy[name];
  return copy;
}

/**
 * The S3 sink's settings. The schema has picked each value and knows where it came from; resolveS3Config (the S3
 * sink's own rules: bucket naming, endpoint form, credential pairing, AWS_* credentials in `.env`, AWS_CA_BUNDLE)
 * receives them as given, and the sources it reports name where each really came from.
 */
export function resolveS3Settings(r: Resolved<S3Keys>, layers: Layers): ResolvedS3Config {
  const o = r.values;
  const set = (k: S3Keys) => r.from[k] !== "default";
  const env: Record<string, string | undefined> = {
    ...without(layers.env),
    ...(o.s3Bucket ? { S3_BUCKET: o.s3Bucket } : {}),
    ...(o.s3AccessKey ? { S3_ACCESS_KEY: o.s3AccessKey } : {}),
    ...(o.s3SecretKey ? { S3_SECRET_KEY: o.s3SecretKey } : {}),
  };
  let resolved: ResolvedS3Config;
  try {
    resolved = resolveS3Config(
      {
        warehouse: o.warehouse,
        ...(o.s3Endpoint ? { endpoint: o.s3Endpoint } : {}),
        ...(o.s3Region ? { region: o.s3Region } : {}),
        ...(set("s3ForcePathStyle") ? { forcePathStyle: o.s3ForcePathStyle } : {}),
        partSizeBytes: o.s3PartSize,
        queueSize: o.s3ParallelParts,
      },
      env,
      without(layers.dotEnv),
    );
  } catch (err) {
    // resolveS3Config names a bad endpoint after the flag it was handed as; say where it was written.
    if (err instanceof SluiceError && err.message.startsWith("--s3-endpoint:")) {
      throw new SluiceError(err.code, err.message.replace("--s3-endpoint", r.from.s3Endpoint));
    }
    throw err;
  }
  const credentials = resolved.sources.credentials;
  return {
    ...resolved,
    sources: {
      endpoint: o.s3Endpoint ? r.from.s3Endpoint : "AWS default for the region",
      region: o.s3Region ? r.from.s3Region : "default",
      forcePathStyle: set("s3ForcePathStyle") ? r.from.s3ForcePathStyle : "default for the endpoint",
      credentials: credentials === "S3_ACCESS_KEY" ? r.from.s3AccessKey : credentials,
    },
  };
}
