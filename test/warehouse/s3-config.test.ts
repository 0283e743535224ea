import { describe, expect, it } from "vitest";
import { SluiceError } from "../../src/core/errors.js";
import { isS3Url, parseS3Url, resolveS3Config } from "../../src/warehouse/s3/config.js";

describe("parseS3Url", () => {
  it("splits s3://BUCKET/PREFIX and trims the prefix's slashes", () => {
    expect(parseS3Url("s3://lake/raw/in/")).toEqual({ bucket: "lake", prefix: "raw/in" });
    expect(parseS3Url("s3://lake")).toEqual({ bucket: "lake", prefix: "" });
    expect(parseS3Url("S3://lake//raw//")).toEqual({ bucket: "lake", prefix: "raw" });
    expect(isS3Url("s3://lake")).toBe(true);
    expect(isS3Url("./data/warehouse")).toBe(false);
  });

  it("takes S3_BUCKET when the URL names none, and refuses two different buckets", () => {
    expect(parseS3Url("s3:///raw", "lake")).toEqual({ bucket: "lake", prefix: "raw" });
    expect(parseS3Url("s3://lake/raw", "lake")).toEqual({ bucket: "lake", prefix: "raw" });
    expect(() => parseS3Url("s3://lake/raw", "pond")).toThrow(/"lake" but S3_BUCKET says "pond"/);
    expect(() => parseS3Url("s3://")).toThrow(/names no bucket/);
  });

  it("rejects what is not a bucket URL", () => {
    for (const bad of ["file:///tmp/x", "s3://a", "s3://has space/x", "s3://lake/../x", "s3://lake/./x"]) {
      expect(() => parseS3Url(bad), bad).toThrow(SluiceError);
    }
  });
});

describe("resolveS3Config", () => {
  const flags = { warehouse: "s3://lake/raw" };

  it("reads flags first, then S3_* before the AWS standard names, each from the environment before .env", () => {
    const env = { AWS_REGION: "eu-west-1", AWS_ENDPOINT_URL: "http://aws-std:1", S3_REGION: "eu-north-1" };
    const dotEnv = { S3_ENDPOINT: "http://127.0.0.1:9000/", S3_REGION: "eu-central-1" };
    const a = resolveS3Config(flags, env, dotEnv);
    expect(a.options.endpoint).toBe("http://127.0.0.1:9000"); // sluice's own name, even from .env, beats AWS_*
    expect(a.options.region).toBe("eu-north-1"); // the same name: the environment beats .env
    expect(a.sources).toMatchObject({ endpoint: ".env S3_ENDPOINT", region: "S3_REGION" });
    expect(resolveS3Config(flags, env, {}).options.endpoint).toBe("http://aws-std:1");

    const b = resolveS3Config({ ...flags, endpoint: "https://s3.example:443", region: "us-west-2" }, env, dotEnv);
    expect(b.options).toMatchObject({ endpoint: "https://s3.example:443", region: "us-west-2" });
    expect(b.sources).toMatchObject({ endpoint: "--s3-endpoint", region: "--s3-region" });

    const c = resolveS3Config(flags, {}, {});
    expect(c.options.endpoint).toBeUndefined();
    expect(c.options.region).toBe("us-east-1");
  });

  it("uses path-style addressing by default only for a custom endpoint", () => {
    expect(resolveS3Config(flags, { S3_ENDPOINT: "http://h:1" }, {}).options.forcePathStyle).toBe(true);
    expect(resolveS3Config(flags, {}, {}).options.forcePathStyle).toBe(false);
    expect(
      resolveS3Config(flags, { S3_ENDPOINT: "http://h:1" }, { S3_FORCE_PATH_STYLE: "false" }).options.forcePathStyle,
    ).toBe(false);
    expect(resolveS3Config({ ...flags, forcePathStyle: true }, {}, {}).options.forcePathStyle).toBe(true);
    expect(() => resolveS3Config(flags, { S3_FORCE_PATH_STYLE: "maybe" }, {})).toThrow(/not a boolean/);
  });

  it("takes keys from S3_ACCESS_KEY/S3_SECRET_KEY or .env, else leaves them to the SDK chain, and never shows them", () => {
    const fromDotEnv = resolveS3Config(flags, {}, { S3_ACCESS_KEY: "AKIA1", S3_SECRET_KEY: "s3cr3t-value" });
    expect(fromDotEnv.options.credentials).toEqual({ accessKeyId: "AKIA1", secretAccessKey: "s3cr3t-value" });
    expect(fromDotEnv.sources.credentials).toBe(".env S3_ACCESS_KEY");
    expect(JSON.stringify(fromDotEnv.sources)).not.toContain("s3cr3t-value");

    const awsInDotEnv = resolveS3Config(flags, {}, { AWS_ACCESS_KEY_ID: "AKIA2", AWS_SECRET_ACCESS_KEY: "x" });
    expect(awsInDotEnv.options.credentials).toEqual({ accessKeyId: "AKIA2", secretAccessKey: "x" });

    // AWS_* in the real environment: the SDK's own chain reads them (and profiles, roles...).
    const chain = resolveS3Config(flags, { AWS_ACCESS_KEY_ID: "AKIA3", AWS_SECRET_ACCESS_KEY: "y" }, {});
    expect(chain.options.credentials).toBeUndefined();
    expect(chain.sources.credentials).toBe("AWS SDK default chain");

    expect(() => resolveS3Config(flags, { S3_ACCESS_KEY: "AKIA1" }, {})).toThrow(
      /both S3_ACCESS_KEY and S3_SECRET_KEY/,
    );
  });

  it("refuses credentials inside the endpoint URL and non-http schemes", () => {
    expect(() => resolveS3Config({ ...flags, endpoint: "http://key:secret@h:9000" }, {}, {})).toThrow(
      /no credentials in the endpoint/,
    );
    expect(() => resolveS3Config({ ...flags, endpoint: "ftp://h" }, {}, {})).toThrow(/http/);
    expect(() => resolveS3Config({ ...flags, endpoint: "not a url" }, {}, {})).toThrow(/not a URL/);
  });

  it("passes AWS_CA_BUNDLE on for TLS endpoints only", () => {
    const env = { AWS_CA_BUNDLE: "/etc/ssl/certs/ca-certificates.crt" };
    expect(resolveS3Config({ ...flags, endpoint: "http://127.0.0.1:9000" }, env, {}).options.caBundlePath).toBe(
      undefined,
    );
    expect(resolveS3Config({ ...flags, endpoint: "https://s3.internal" }, env, {}).options.caBundlePath).toBe(
      env.AWS_CA_BUNDLE,
    );
    expect(resolveS3Config(flags, env, {}).options.caBundlePath).toBe(env.AWS_CA_BUNDLE);
  });

  it("checks part size and parallelism", () => {
    expect(resolveS3Config(flags, {}, {}).options).toMatchObject({ partSizeBytes: 8 * 1024 * 1024, queueSize: 4 });
    expect(() => resolveS3Config({ ...flags, partSizeBytes: 1024 * 1024 }, {}, {})).toThrow(/at least 5 MiB/);
    expect(() => resolveS3Config({ ...flags, queueSize: 0 }, {}, {})).toThrow(/at least 1/);
  });
});
