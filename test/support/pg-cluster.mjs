// A PostgreSQL server of the caller's own. Plain JavaScript (types in pg-cluster.d.mts) so that the tests
// (through pg-cluster.ts) and `npm run torture -- --cluster N` (plain node) share one implementation.
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** @typedef {import("./pg-cluster.d.mts").PgCluster} PgCluster */

/**
 * The newest PostgreSQL server's binaries (initdb, pg_ctl), or undefined when none is installed.
 * @returns {string | undefined}
 */
export function pgServerBin() {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")) && existsSync(join(root, v, "bin", "pg_ctl")))
    .sort((a, b) => Number(a) - Number(b));
  const v = versions.at(-1);
  return v === undefined ? undefined : join(root, v, "bin");
}

/** @returns {string} */
function bin() {
  const b = pgServerBin();
  if (!b)
    throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)");
  return b;
}

/**
 * Runs a server binary as the postgres user (the server refuses to run as root).
 * @param {string} cmd
 * @param {string[]} args
 */
function asPostgres(cmd, args) {
  const user = process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--"] : [];
  const [exe, ...rest] = [...user, join(bin(), cmd), ...args];
  execFileSync(/** @type {string} */ (exe), rest, { stdio: "pipe" });
}

/** @returns {Promise<number>} */
async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = /** @type {import("node:net").AddressInfo} */ (srv.address());
      srv.close(() => resolve(addr.port));
    });
  });
}

/** @returns {Promise<PgCluster>} */
export async function startPgCluster() {
  const dir = mkdtempSync(join(tmpdir(), "sluice-pg-"));
  chmodSync(dir, 0o700);
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, "data");
  asPostgres("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on`;
  /** @type {PgCluster} */
  const cluster = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start() {
      asPostgres("pg_ctl", ["-D", data, "-o", opts, "-l", join(dir, "server.log"), "-w", "-t", "30", "start"]);
    },
    stop(mode = "fast") {
      asPostgres("pg_ctl", ["-D", data, "-m", mode, "-w", "-t", "30", "stop"]);
    },
    destroy() {
      try {
        cluster.stop("immediate");
      } catch {
        // Already stopped.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  cluster.start();
  return cluster;
}
