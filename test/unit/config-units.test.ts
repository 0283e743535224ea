import { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { describe, expect, it } from "vitest";
import { resolveRunConfig } from "../../src/config/resolve.js";
import { resolveServeConfig } from "../../src/config/serve-options.js";
import { parseDuration, parseSize, showDuration, showSize } from "../../src/config/units.js";

describe("sizes", () => {
  it("read KB/MB/GB as powers of 1000, KiB/MiB/GiB as powers of 1024, and plain bytes", () => {
    expect(parseSize("512MB")).toBe(512_000_000);
    expect(parseSize("64KiB")).toBe(65_536);
    expect(parseSize("8 MiB")).toBe(8_388_608);
    expect(parseSize("1.5KiB")).toBe(1536);
    expect(parseSize("10gib")).toBe(10_737_418_240);
    expect(parseSize("1048576")).toBe(1_048_576);
    for (const bad of ["", "MB", "-1MB", "1.5", "0.3B", "12 parsecs", "1e3", "5M"])
      expect(parseSize(bad), bad).toBeNull();
  });

  it("show a default as the shortest exact unit, which reads back to the same bytes", () => {
    for (const n of [8_388_608, 10_737_418_240, 512_000_000, 1000, 1536, 7]) {
      expect(parseSize(showSize(n)), showSize(n)).toBe(n);
    }
    expect(showSize(10_737_418_240)).toBe("10GiB");
    expect(showSize(512_000_000)).toBe("512MB");
  });

  it("are accepted with units by every size option, from flags and the environment", () => {
    const c = resolveRunConfig(
      { archiveMaxBytes: "2GB", s3PartSize: "16MiB", warehouse: "s3://bucket/p" },
      { SLUICE_DUCKDB_MEMORY_LIMIT: "1GiB" },
      {},
      "/tmp",
    );
    expect(c.archive.maxTotalBytes).toBe(2e9);
    expect(c.s3?.options.partSizeBytes).toBe(16 * 2 ** 20);
    expect(c.duckdbMemoryLimit).toBe(`${2 ** 30}B`);
    expect(resolveServeConfig({ maxUploadBytes: "100KB" }, {}, {}).maxUploadBytes).toBe(100_000);
    // Plain bytes, as before.
    expect(resolveServeConfig({}, { SLUICE_MAX_UPLOAD_BYTES: "2147483648" }, {}).maxUploadBytes).toBe(2 ** 31);
  });

  it("refuse what is no size, naming where it was written", () => {
    expect(() => resolveRunConfig({}, { SLUICE_ARCHIVE_MAX_BYTES: "lots" }, {}, "/tmp")).toThrow(
      /^SLUICE_ARCHIVE_MAX_BYTES: expected a size such as 512MB, 64KiB or a number of bytes \(got "lots"\)/,
    );
    expect(() => resolveRunConfig({ s3PartSize: "4MiB", warehouse: "s3://bucket/p" }, {}, {}, "/tmp")).toThrow(
      /^--s3-part-size: at least 5MiB \(5242880 bytes\)/,
    );
  });

  it("give DuckDB the memory limit it had before: 512MB is 512000000 bytes to both", async () => {
    const limitOf = async (memory_limit: string) => {
      const db = await DuckDBInstance.create(":memory:", { memory_limit });
      const conn = await DuckDBConnection.create(db);
      const rows = (await conn.runAndReadAll("SELECT current_setting('memory_limit')")).getRows();
      conn.closeSync();
      db.closeSync();
      return rows[0]?.[0];
    };
    const configured = resolveRunConfig({}, {}, {}, "/tmp").duckdbMemoryLimit;
    expect(await limitOf(configured)).toBe(await limitOf("512MB"));
    const binary = resolveRunConfig({ duckdbMemoryLimit: "2GiB" }, {}, {}, "/tmp").duckdbMemoryLimit;
    expect(await limitOf(binary)).toBe(await limitOf("2GiB"));
  });
});

describe("durations", () => {
  it("take ms, s, m/min, h, and a bare number in the option's unit", () => {
    expect(parseDuration("500ms", "s")).toBe(500);
    expect(parseDuration("30s", "s")).toBe(30_000);
    expect(parseDuration("5m", "s")).toBe(300_000);
    expect(parseDuration("1h", "min")).toBe(3_600_000);
    expect(parseDuration("0.25", "s")).toBe(250);
    expect(parseDuration("10", "min")).toBe(600_000);
    for (const bad of ["", "-1", "Infinity", "5 days", "abc", "1h30m"]) expect(parseDuration(bad, "s"), bad).toBeNull();
    expect(showDuration(3_600_000)).toBe("1h");
    expect(showDuration(600_000)).toBe("10min");
    expect(showDuration(250)).toBe("250ms");
  });

  it("are accepted with units by the run and serve options, bare numbers keeping their old meaning", () => {
    const c = resolveRunConfig({ stabilitySeconds: "500ms" }, { SLUICE_SCAN_INTERVAL: "2m" }, {}, "/tmp");
    expect(c.stabilityMs).toBe(500);
    expect(c.scanIntervalMs).toBe(120_000);
    expect(resolveRunConfig({ stabilitySeconds: "0.3" }, {}, {}, "/tmp").stabilityMs).toBe(300);
    expect(resolveRunConfig({ leaseSeconds: "1m" }, {}, {}, "/tmp").leaseSeconds).toBe(60);
    const limits = resolveServeConfig({ uploadTimeout: "2h", headersTimeout: "10s" }, {}, {}).limits;
    expect(limits).toMatchObject({ uploadTimeoutMs: 7_200_000, headersTimeoutMs: 10_000 });
    expect(() => resolveRunConfig({ scanInterval: "0s" }, {}, {}, "/tmp")).toThrow(/^--scan-interval: above 0s/);
    expect(() => resolveRunConfig({ leaseSeconds: "2h" }, {}, {}, "/tmp")).toThrow(/^--lease-seconds: at most 1h/);
  });
});
