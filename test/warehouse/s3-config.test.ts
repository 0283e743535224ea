import { describe, expect, it } from "vitest";
import { resolveRunConfig } from "../../src/config/resolve.js";
import { SluiceError } from "../../src/core/errors.js";
import { isS3Url, parseS3Url, resolveS3Config, type S3Settings } from "../../src/warehouse/s3/config.js";

describe("parseS3Url", () => {
  it("splits s3://BUCKET/PREFIX and trims the prefix's slashes", () => {
    expect(parseS3Url("s3://lake/raw/in/")).toEqual({ bucket: "lake", prefix: "raw/in" });
    expect(parseS3Url("s3://lake")).toEqual({ bucket: "lake", prefix: "" });
    expect(parseS3Url("S3://lake//raw//")).toEqual({ bucket: "lake", prefix: "raw" });
    expect(isS3Url("s3://lake")).toBe(true);
    expect(isS3Url("./data/warehouse")).toBe(false);
  });

  it("takes the bucket setting when the URL names none, and refuses two different buckets", () => {
    const lake = { value: "lake", from: "SLUICE_S3_BUCKET" };
    expect(parseS3Url("s3:///raw", lake)).toEqual({ bucket: "lake", prefix: "raw" });
    expect(parseS3Url("s3://lake/raw", lake)).toEqual({ bucket: "lake", prefix: "raw" });
    expect(() => parseS3Url("s3://lake/raw", { value: "pond", from: ".env S3_BUCKET" })).toThrow(
      /"lake" but \.env S3_BUCKET says "pond"/,
    );
    expect(() => parseS3Url("s3://")).toThrow(/names no bucket \(use s3:\/\/BUCKET\/PREFIX or set SLUICE_S3_BUCKET\)/);
  });

  it("rejects what is not a bucket URL", () => {
    for (const bad of ["file:///tmp/x", "s3://a", "s3://has space/x", "s3://lake/../x", "s3://lake/./x"]) {
      expect(() => parseS3Url(bad), bad).toThrow(SluiceError);
    }
  });
});

/** The S3 rules, applied to settings the configuration has already picked. */
describe("resolveS3Config", () => {
  const base: S3Settings = { warehouse: "s3://lake/raw", partSizeBytes: 8 * 2 ** 20, queueSize: 4 };
  const given = <T>(value: T, from = "--flag") => ({ value, from });

  it("uses what it is given, says where each came from, and defaults the rest", () => {
    const a = resolveS3Config(
      {
        ...base,
        endpoint: given("http://127.0.0.1:9000/", ".env S3_ENDPOINT"),
        region: given("eu-north-1", "AWS_REGION"),
      },
      {},
      {},
    );
    expect(a.options).toMatchObject({ endpoint: "http://127.0.0.1:9000", region: "eu-north-1" });
    expect(a.sources).toEqual({
      endpoint: ".env S3_ENDPOINT",
      region: "AWS_REGION",
      forcePathStyle: "default for the endpoint",
      credentials: "AWS SDK default chain",
    });
    const c = resolveS3Config(base, {}, {});
    expect(c.options.endpoint).toBeUndefined();
    expect(c.options.region).toBe("us-east-1");
    expect(c.sources).toMatchObject({ endpoint: "AWS default for the region", region: "default" });
  });

  it("uses path-style addressing by default only for a custom endpoint", () => {
    const endpoint = given("http://h:1");
    expect(resolveS3Config({ ...base, endpoint }, {}, {}).options.forcePathStyle).toBe(true);
    expect(resolveS3Config(base, {}, {}).options.forcePathStyle).toBe(false);
    const off = resolveS3Config(
      { ...base, endpoint, forcePathStyle: given(false, "SLUICE_S3_FORCE_PATH_STYLE") },
      {},
      {},
    );
    expect(off.options.forcePathStyle).toBe(false);
    expect(off.sources.forcePathStyle).toBe("SLUICE_S3_FORCE_PATH_STYLE");
    expect(resolveS3Config({ ...base, forcePathStyle: given(true) }, {}, {}).options.forcePathStyle).toBe(true);
  });

  it("takes the key pair, else AWS_* keys written in .env, else leaves them to the SDK chain, and never shows them", () => {
    const pair = resolveS3Config(
      {
        ...base,
        accessKey: given("AKIA1", ".env S3_ACCESS_KEY"),
        secretKey: given("s3cr3t-value", ".env S3_SECRET_KEY"),
      },
      {},
      {},
    );
    expect(pair.options.credentials).toEqual({ accessKeyId: "AKIA1", secretAccessKey: "s3cr3t-value" });
    expect(pair.sources.credentials).toBe(".env S3_ACCESS_KEY");
    expect(JSON.stringify(pair.sources)).not.toContain("s3cr3t-value");

    const awsInDotEnv = resolveS3Config(base, {}, { AWS_ACCESS_KEY_ID: "AKIA2", AWS_SECRET_ACCESS_KEY: "x" });
    expect(awsInDotEnv.options.credentials).toEqual({ accessKeyId: "AKIA2", secretAccessKey: "x" });
    expect(awsInDotEnv.sources.credentials).toBe(".env AWS_ACCESS_KEY_ID");
    const withToken = resolveS3Config(
      base,
      {},
      { AWS_ACCESS_KEY_ID: "AKIA2", AWS_SECRET_ACCESS_KEY: "x", AWS_SESSION_TOKEN: "tok" },
    );
    expect(withToken.options.credentials).toEqual({ accessKeyId: "AKIA2", secretAccessKey: "x", sessionToken: "tok" });

    // AWS_* in the real environment: the SDK's own chain reads them (and profiles, roles...); so it does when
    // the environment has an access key, whatever .env says.
    const chain = resolveS3Config(base, { AWS_ACCESS_KEY_ID: "AKIA3", AWS_SECRET_ACCESS_KEY: "y" }, {});
    expect(chain.options.credentials).toBeUndefined();
    expect(chain.sources.credentials).toBe("AWS SDK default chain");
    const shadowed = resolveS3Config(
      base,
      { AWS_ACCESS_KEY_ID: "AKIA3" },
      { AWS_ACCESS_KEY_ID: "AKIA2", AWS_SECRET_ACCESS_KEY: "x" },
    );
    expect(shadowed.options.credentials).toBeUndefined();
  });

  it("wants both keys or neither, and names the new names and the one that is set", () => {
    expect(() => resolveS3Config({ ...base, accessKey: given("AKIA1", "S3_ACCESS_KEY") }, {}, {})).toThrow(
      /^set both SLUICE_S3_ACCESS_KEY and SLUICE_S3_SECRET_KEY, or neither \(only S3_ACCESS_KEY is set\)$/,
    );
    expect(() => resolveS3Config({ ...base, secretKey: given("s", ".env SLUICE_S3_SECRET_KEY") }, {}, {})).toThrow(
      /only \.env SLUICE_S3_SECRET_KEY is set/,
    );
  });

  it("refuses credentials inside the endpoint URL and non-http schemes, naming where the endpoint was written", () => {
    const at = (value: string) => ({ ...base, endpoint: given(value, "SLUICE_S3_ENDPOINT") });
    expect(() => resolveS3Config(at("http://key:secret@h:9000"), {}, {})).toThrow(
      /^SLUICE_S3_ENDPOINT: put no credentials in the endpoint; use SLUICE_S3_ACCESS_KEY \/ SLUICE_S3_SECRET_KEY$/,
    );
    expect(() => resolveS3Config(at("ftp://h"), {}, {})).toThrow(/^SLUICE_S3_ENDPOINT: use http/);
    expect(() => resolveS3Config(at("not a url"), {}, {})).toThrow(/not a URL/);
  });

  it("passes AWS_CA_BUNDLE on for TLS endpoints only, from the environment or .env", () => {
    const ca = "/etc/ssl/certs/ca-certificates.crt";
    const env = { AWS_CA_BUNDLE: ca };
    expect(resolveS3Config({ ...base, endpoint: given("http://127.0.0.1:9000") }, env, {}).options.caBundlePath).toBe(
      undefined,
    );
    expect(resolveS3Config({ ...base, endpoint: given("https://s3.internal") }, env, {}).options.caBundlePath).toBe(ca);
    expect(resolveS3Config(base, env, {}).options.caBundlePath).toBe(ca);
    expect(resolveS3Config(base, {}, env).options.caBundlePath).toBe(ca);
  });

  it("checks part size and parallelism", () => {
    expect(resolveS3Config(base, {}, {}).options).toMatchObject({ partSizeBytes: 8 * 1024 * 1024, queueSize: 4 });
    expect(() => resolveS3Config({ ...base, partSizeBytes: 1024 * 1024 }, {}, {})).toThrow(/at least 5 MiB/);
    expect(() => resolveS3Config({ ...base, queueSize: 0 }, {}, {})).toThrow(/at least 1/);
  });
});

/** Which name wins is the configuration's business: these go through the real resolution. */
describe("S3 settings through the configuration", () => {
  const s3 = (flags: Record<string, unknown>, env: Record<string, string>, dotEnv: Record<string, string> = {}) => {
    const config = resolveRunConfig({ warehouse: "s3://lake/raw", ...flags }, env, dotEnv, "/tmp");
    if (!config.s3) throw new Error("not an S3 warehouse");
    return config.s3;
  };

  it("reads flags first, then sluice's names before the AWS standard ones, each from the environment before .env", () => {
    const env = { AWS_REGION: "eu-west-1", AWS_ENDPOINT_URL: "http://aws-std:1", S3_REGION: "eu-north-1" };
    const dotEnv = { S3_ENDPOINT: "http://127.0.0.1:9000/", S3_REGION: "eu-central-1" };
    const a = s3({}, env, dotEnv);
    expect(a.options.endpoint).toBe("http://127.0.0.1:9000"); // sluice's own name, even from .env, beats AWS_*
    expect(a.options.region).toBe("eu-north-1"); // the environment beats .env
    expect(a.sources).toMatchObject({ endpoint: ".env S3_ENDPOINT", region: "S3_REGION" });
    expect(s3({}, env).options.endpoint).toBe("http://aws-std:1");
    expect(s3({}, env).sources.endpoint).toBe("AWS_ENDPOINT_URL");
    // Among the AWS names the name's rank comes first (AWS_ENDPOINT_URL_S3 before AWS_ENDPOINT_URL, AWS_REGION
    // before AWS_DEFAULT_REGION), then the environment before .env, as before the schema.
    const std = s3(
      {},
      { AWS_ENDPOINT_URL: "http://all:1", AWS_DEFAULT_REGION: "ca-central-1" },
      { AWS_ENDPOINT_URL_S3: "http://s3-only:1", AWS_REGION: "sa-east-1" },
    );
    expect(std.options).toMatchObject({ endpoint: "http://s3-only:1", region: "sa-east-1" });
    expect(std.sources).toMatchObject({ endpoint: ".env AWS_ENDPOINT_URL_S3", region: ".env AWS_REGION" });
    const std2 = s3({}, { AWS_ENDPOINT_URL_S3: "http://s3-only:1", AWS_ENDPOINT_URL: "http://all:1" });
    expect(std2.options.endpoint).toBe("http://s3-only:1");

    const b = s3({ s3Endpoint: "https://s3.example:443", s3Region: "us-west-2" }, env, dotEnv);
    expect(b.options).toMatchObject({ endpoint: "https://s3.example:443", region: "us-west-2" });
    expect(b.sources).toMatchObject({ endpoint: "--s3-endpoint", region: "--s3-region" });

    const c = s3({}, {});
    expect(c.options.endpoint).toBeUndefined();
    expect(c.options.region).toBe("us-east-1");
  });

  it("path style: the flag, then the old or new name, else the endpoint's default", () => {
    expect(s3({}, { S3_ENDPOINT: "http://h:1" }).options.forcePathStyle).toBe(true);
    const off = s3({}, { S3_ENDPOINT: "http://h:1" }, { S3_FORCE_PATH_STYLE: "false" });
    expect(off.options.forcePathStyle).toBe(false);
    expect(off.sources.forcePathStyle).toBe(".env S3_FORCE_PATH_STYLE");
    const flag = s3({ s3ForcePathStyle: true }, { SLUICE_S3_FORCE_PATH_STYLE: "false" });
    expect(flag.options.forcePathStyle).toBe(true);
    expect(flag.sources.forcePathStyle).toBe("--s3-force-path-style");
    expect(() => s3({}, { S3_FORCE_PATH_STYLE: "maybe" })).toThrow(/^S3_FORCE_PATH_STYLE: expected a boolean/);
  });

  it("credentials: the key pair under either name, AWS_* in .env, else the SDK chain", () => {
    const fromDotEnv = s3({}, {}, { S3_ACCESS_KEY: "AKIA1", S3_SECRET_KEY: "s3cr3t-value" });
    expect(fromDotEnv.options.credentials).toEqual({ accessKeyId: "AKIA1", secretAccessKey: "s3cr3t-value" });
    expect(fromDotEnv.sources.credentials).toBe(".env S3_ACCESS_KEY");
    const awsInDotEnv = s3({}, {}, { AWS_ACCESS_KEY_ID: "AKIA2", AWS_SECRET_ACCESS_KEY: "x" });
    expect(awsInDotEnv.options.credentials).toEqual({ accessKeyId: "AKIA2", secretAccessKey: "x" });
    // sluice's own pair beats AWS_* written in .env.
    const both = s3({}, { SLUICE_S3_ACCESS_KEY: "AK", SLUICE_S3_SECRET_KEY: "sk" }, { AWS_ACCESS_KEY_ID: "AKIA2" });
    expect(both.options.credentials).toEqual({ accessKeyId: "AK", secretAccessKey: "sk" });
    expect(both.sources.credentials).toBe("SLUICE_S3_ACCESS_KEY");
    // The SDK's own variables reach the S3 rules as written: an access key in the environment leaves it all to the SDK.
    const chain = s3({}, { AWS_ACCESS_KEY_ID: "AKIA3" }, { AWS_ACCESS_KEY_ID: "AKIA2", AWS_SECRET_ACCESS_KEY: "x" });
    expect(chain.options.credentials).toBeUndefined();
    expect(chain.sources.credentials).toBe("AWS SDK default chain");
    expect(s3({ s3Endpoint: "https://s3.internal" }, {}, { AWS_CA_BUNDLE: "/ca.pem" }).options.caBundlePath).toBe(
      "/ca.pem",
    );
    expect(() => s3({}, { S3_ACCESS_KEY: "AKIA1" })).toThrow(
      /set both SLUICE_S3_ACCESS_KEY and SLUICE_S3_SECRET_KEY, or neither \(only S3_ACCESS_KEY is set\)/,
    );
  });

  it("an empty value is no value: the S3 default applies", () => {
    const r = s3({}, { SLUICE_S3_ENDPOINT: "", SLUICE_S3_REGION: "", SLUICE_S3_ACCESS_KEY: "" });
    expect(r.options.endpoint).toBeUndefined();
    expect(r.options.region).toBe("us-east-1");
    expect(r.options.credentials).toBeUndefined();
  });

  it("the bucket setting fills an s3:/// URL, and a different one is refused naming where it was written", () => {
    expect(s3({ warehouse: "s3:///p" }, { S3_BUCKET: "lake" }).options.location).toEqual({
      bucket: "lake",
      prefix: "p",
    });
    expect(() => s3({ warehouse: "s3://lake/p" }, {}, { SLUICE_S3_BUCKET: "pond" })).toThrow(
      /but \.env SLUICE_S3_BUCKET says "pond"/,
    );
  });
});
