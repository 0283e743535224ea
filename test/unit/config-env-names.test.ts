import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveRunConfig } from "../../src/config/resolve.js";
import { namesOf, OPTION_KEYS } from "../../src/config/schema.js";

/** One scheme (SLUICE_<UPPER_SNAKE>) for every environment name; the S3_* names of before still work. */

const S3 = { warehouse: "s3://bucket/prefix" };

function resolve(env: Record<string, string>, dotEnv: Record<string, string> = {}, toml = "") {
  const cwd = mkdtempSync(join(tmpdir(), "sluice-env-"));
  writeFileSync(join(cwd, "sluice.toml"), toml);
  const config = resolveRunConfig({ ...S3, config: "sluice.toml" }, env, dotEnv, cwd);
  return { s3: config.s3, warnings: config.warnings };
}

describe("environment names", () => {
  it("are SLUICE_ and the option's name for every option", () => {
    for (const key of OPTION_KEYS) {
      const env = namesOf(key).env;
      if (env) expect(env, key).toMatch(/^SLUICE_[A-Z0-9]+(_[A-Z0-9]+)*$/);
    }
    expect(namesOf("s3Endpoint").env).toBe("SLUICE_S3_ENDPOINT");
    expect(namesOf("s3PartSize").env).toBe("SLUICE_S3_PART_SIZE");
    expect(namesOf("allowedHosts").env).toBe("SLUICE_ALLOWED_HOSTS");
  });

  it("an old name still works, with a warning naming the new one", () => {
    const r = resolve({ S3_ENDPOINT: "http://old:9000", S3_REGION: "eu-west-3" });
    expect(r.s3?.options).toMatchObject({ endpoint: "http://old:9000", region: "eu-west-3", forcePathStyle: true });
    expect(r.s3?.sources).toMatchObject({ endpoint: "S3_ENDPOINT", region: "S3_REGION" });
    expect(r.warnings).toEqual([
      "S3_ENDPOINT is an old name: use SLUICE_S3_ENDPOINT",
      "S3_REGION is an old name: use SLUICE_S3_REGION",
    ]);
  });

  it("the new name wins when both are set, and the old one is said to be ignored", () => {
    const r = resolve({ S3_ENDPOINT: "http://old:9000", SLUICE_S3_ENDPOINT: "http://new:9000" });
    expect(r.s3?.options.endpoint).toBe("http://new:9000");
    expect(r.s3?.sources.endpoint).toBe("SLUICE_S3_ENDPOINT");
    expect(r.warnings).toEqual(["S3_ENDPOINT is ignored: SLUICE_S3_ENDPOINT is set"]);
  });

  it("the old credential and bucket names reach the S3 settings, and the new ones win", () => {
    const old = resolveRunConfig(
      { warehouse: "s3:///p" },
      { S3_BUCKET: "old-bucket", S3_ACCESS_KEY: "AKOLD", S3_SECRET_KEY: "old-secret" },
      {},
      "/tmp",
    );
    expect(old.s3?.options).toMatchObject({
      location: { bucket: "old-bucket", prefix: "p" },
      credentials: { accessKeyId: "AKOLD", secretAccessKey: "old-secret" },
    });
    expect(old.s3?.sources.credentials).toBe("S3_ACCESS_KEY");
    const both = resolveRunConfig(
      { warehouse: "s3:///p" },
      { S3_BUCKET: "old-bucket", SLUICE_S3_BUCKET: "new-bucket", S3_ACCESS_KEY: "AKOLD", S3_SECRET_KEY: "old-secret" },
      { SLUICE_S3_ACCESS_KEY: "AKNEW", SLUICE_S3_SECRET_KEY: "new-secret" },
      "/tmp",
    );
    // The environment beats .env whatever the name: the old S3_ACCESS_KEY in the environment beats .env's new one.
    expect(both.s3?.options).toMatchObject({
      location: { bucket: "new-bucket" },
      credentials: { accessKeyId: "AKOLD", secretAccessKey: "old-secret" },
    });
    const dotEnvOnly = resolveRunConfig(
      { warehouse: "s3://bucket/p" },
      {},
      { SLUICE_S3_ACCESS_KEY: "AKNEW", SLUICE_S3_SECRET_KEY: "new-secret", S3_ACCESS_KEY: "AKOLD" },
      "/tmp",
    );
    expect(dotEnvOnly.s3?.options.credentials).toEqual({ accessKeyId: "AKNEW", secretAccessKey: "new-secret" });
    expect(dotEnvOnly.s3?.sources.credentials).toBe(".env SLUICE_S3_ACCESS_KEY");
  });

  it("AWS's standard names are read after everything written for sluice, without a warning", () => {
    const r = resolve({ AWS_REGION: "us-west-2", AWS_ENDPOINT_URL: "http://aws-std:1" });
    expect(r.s3?.options).toMatchObject({ region: "us-west-2", endpoint: "http://aws-std:1" });
    expect(r.warnings).toEqual([]);
    // .env's sluice name beats the machine-wide AWS name in the environment.
    const d = resolve({ AWS_REGION: "us-west-2" }, { SLUICE_S3_REGION: "eu-north-1" });
    expect(d.s3?.options.region).toBe("eu-north-1");
    expect(d.s3?.sources.region).toBe(".env SLUICE_S3_REGION");
    // So does the config file.
    const f = resolve({ AWS_REGION: "us-west-2" }, {}, 's3_region = "ap-south-1"\n');
    expect(f.s3?.options.region).toBe("ap-south-1");
    expect(f.s3?.sources.region).toMatch(/sluice\.toml: s3_region$/);
  });

  it("a bad endpoint is reported under the name it was written with", () => {
    expect(() => resolve({ S3_ENDPOINT: "ftp://x" })).toThrow(/^S3_ENDPOINT: use http:\/\/ or https:\/\//);
    expect(() => resolve({}, { SLUICE_S3_ENDPOINT: "not a url" })).toThrow(
      /^\.env SLUICE_S3_ENDPOINT: "not a url" is not a URL/,
    );
  });
});
