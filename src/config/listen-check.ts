import { lookup as dnsLookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { SluiceError } from "../core/errors.js";

/** Every address a name resolves to (an address literal resolves to itself), as `dns.lookup(host, {all: true})`. */
export type Resolver = (host: string) => Promise<readonly { address: string }[]>;

export const systemResolver: Resolver = (host) => dnsLookup(host, { all: true });

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/** 127.0.0.0/8 (also written as IPv4-mapped IPv6, which BlockList matches) and ::1, in any spelling. */
export function isLoopbackAddress(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? "ipv4" : "ipv6");
}

export interface ListenExposure {
  addresses: string[];
  /** Every resolved address is loopback: only this machine can connect. */
  loopback: boolean;
}

/**
 * What `--listen`'s host resolves to. The decision is on the addresses, never
 * on the text: `127.example.net` may resolve anywhere, and `localhost` might
 * not be loopback on a badly configured host. A name that does not resolve is
 * a configuration error now rather than a listen failure later.
 */
export async function listenExposure(host: string, resolve: Resolver = systemResolver): Promise<ListenExposure> {
  let found: readonly { address: string }[];
  try {
    found = await resolve(host);
  } catch (err) {
    throw new SluiceError("SLUICE_ERR_CONFIG", `--listen / SLUICE_LISTEN: "${host}" does not resolve`, { cause: err });
  }
  const addresses = found.map((a) => a.address);
  if (addresses.length === 0) {
    throw new SluiceError("SLUICE_ERR_CONFIG", `--listen / SLUICE_LISTEN: "${host}" resolves to no address`);
  }
  return { addresses, loopback: addresses.every(isLoopbackAddress) };
}

/**
 * Without a token the API must be reachable from this machine only, unless
 * `--insecure-no-auth` says otherwise: every address the host resolves to is
 * checked, so one public address among loopback ones is enough to refuse.
 */
export async function checkListen(
  serve: { host: string; port: number; apiToken: string | null; insecureNoAuth: boolean },
  resolve: Resolver = systemResolver,
): Promise<ListenExposure> {
  const exposure = await listenExposure(serve.host, resolve);
  if (!serve.apiToken && !exposure.loopback && !serve.insecureNoAuth) {
    const public_ = exposure.addresses.filter((a) => !isLoopbackAddress(a)).join(", ");
    throw new SluiceError(
      "SLUICE_ERR_CONFIG",
      `--listen ${serve.host}:${serve.port} resolves to ${public_}, reachable from other hosts: set SLUICE_API_TOKEN (or --api-token), or pass --insecure-no-auth`,
    );
  }
  return exposure;
}
