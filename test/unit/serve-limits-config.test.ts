import { describe, expect, it } from "vitest";
import { resolveServeConfig } from "../../src/config/serve-options.js";

/** The request-limit options of `sluice serve` (issue 18): their defaults, their layering, and what is refused. */

const resolve = (flags: Record<string, unknown> = {}, env: Record<string, string> = {}) =>
  resolveServeConfig(flags, env, {});

describe("serve request limits", () => {
  it("default to 30 s headers, 30 s body idle, 3600 s per request, 8 uploads per client and 64 in all", () => {
    expect(resolve().limits).toEqual({
      headersTimeoutMs: 30_000,
      bodyIdleTimeoutMs: 30_000,
      uploadTimeoutMs: 3_600_000,
      maxUploads: 64,
      maxUploadsPerClient: 8,
    });
  });

  it("take flags over the environment, in seconds (fractions allowed)", () => {
    const { limits } = resolve(
      { bodyIdleTimeout: "0.5", maxUploadsPerClient: "3" },
      { SLUICE_BODY_IDLE_TIMEOUT: "9", SLUICE_UPLOAD_TIMEOUT: "60", SLUICE_MAX_UPLOADS: "10" },
    );
    expect(limits).toMatchObject({
      bodyIdleTimeoutMs: 500,
      uploadTimeoutMs: 60_000,
      maxUploads: 10,
      maxUploadsPerClient: 3,
    });
  });

  it.each([
    [{ bodyIdleTimeout: "0" }, "--body-idle-timeout"],
    [{ uploadTimeout: "-5" }, "--upload-timeout"],
    [{ headersTimeout: "Infinity" }, "--headers-timeout"],
    [{ maxUploads: "0" }, "--max-uploads"],
    [{ maxUploadsPerClient: "2.5" }, "--max-uploads-per-client"],
    [{ headersTimeout: "120", uploadTimeout: "60" }, "--headers-timeout must not be longer"],
  ])("refuse %o", (flags, message) => {
    expect(() => resolve(flags)).toThrow(message);
  });
});
