import { describe, expect, it } from "vitest";
import { checkListen, isLoopbackAddress, listenExposure, type Resolver } from "../../src/config/listen-check.js";

/**
 * `--listen` without a token is allowed only when every address its host
 * resolves to is loopback (issue 18, W1: `127.public.test` passed a text
 * check and resolved elsewhere). Real names go through the system resolver;
 * names that must resolve to a public address offline go through a table
 * standing in for DNS, since the decision, not DNS, is under test.
 */

const table =
  (answers: Record<string, string[]>): Resolver =>
  async (host) => {
    const found = answers[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return found.map((address) => ({ address }));
  };

const noToken = (host: string) => ({ host, port: 8080, apiToken: null, insecureNoAuth: false });

describe("isLoopbackAddress", () => {
  it("is true for 127.0.0.0/8 and ::1 in any spelling, false for everything else", () => {
    for (const a of ["127.0.0.1", "127.255.0.9", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "::ffff:7f00:1"]) {
      expect(isLoopbackAddress(a), a).toBe(true);
    }
    for (const a of ["0.0.0.0", "::", "128.0.0.1", "10.0.0.1", "192.0.2.2", "::ffff:10.0.0.1", "fd00::2", "127.x"]) {
      expect(isLoopbackAddress(a), a).toBe(false);
    }
  });
});

describe("checkListen", () => {
  it("refuses, without a token, a name that reads like loopback and resolves to a public address", async () => {
    const dns = table({ "127.public.test": ["192.0.2.2"] });
    await expect(checkListen(noToken("127.public.test"), dns)).rejects.toThrow(
      /--listen 127\.public\.test:8080 resolves to 192\.0\.2\.2, reachable from other hosts/,
    );
  });

  it("refuses a name with one public address among loopback ones", async () => {
    const dns = table({ both: ["127.0.0.1", "::1", "198.51.100.7"] });
    await expect(checkListen(noToken("both"), dns)).rejects.toThrow(/resolves to 198\.51\.100\.7,/);
  });

  it("allows a public address with a token or --insecure-no-auth, and says it is not loopback", async () => {
    const dns = table({ "public.test": ["192.0.2.2"] });
    const withToken = await checkListen({ ...noToken("public.test"), apiToken: "0123456789abcdef" }, dns);
    expect(withToken).toEqual({ addresses: ["192.0.2.2"], loopback: false });
    expect((await checkListen({ ...noToken("public.test"), insecureNoAuth: true }, dns)).loopback).toBe(false);
  });

  it("decides on the system resolver's answer for real names and literals", async () => {
    expect((await checkListen(noToken("localhost"))).loopback).toBe(true);
    expect(await listenExposure("127.0.0.2")).toEqual({ addresses: ["127.0.0.2"], loopback: true });
    expect(await listenExposure("::1")).toEqual({ addresses: ["::1"], loopback: true });
    await expect(checkListen(noToken("0.0.0.0"))).rejects.toThrow(/resolves to 0\.0\.0\.0/);
    await expect(checkListen(noToken("::"))).rejects.toThrow(/reachable from other hosts/);
    await expect(checkListen(noToken("127.0.0.1.invalid"))).rejects.toThrow(/"127\.0\.0\.1\.invalid" does not resolve/);
  });
});
