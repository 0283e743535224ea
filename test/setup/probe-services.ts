import { execFileSync } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import pg from "pg";
import { type PgCluster, pgServerBin, startPgCluster } from "../support/pg-cluster.js";
import type { ServiceName, ServiceProbe } from "../support/services.js";

export function onPath(bin: string): string | undefined {
  for (const d of (process.env.PATH ?? "").split(delimiter)) {
    try {
      accessSync(join(d, bin), constants.X_OK);
      return join(d, bin);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

async function pgAnswers(url: string): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query("SELECT 1");
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await c.end().catch(() => {});
  }
}

export interface ServiceSetup {
  probes: ServiceProbe[];
  /** Stops what the setup started (a throwaway PostgreSQL). */
  stop(): void;
}

/**
 * Looks for every service the main suite uses, and starts the ones it can: when no PostgreSQL answers on
 * 127.0.0.1:5432 (or at SLUICE_TEST_PG) and the server binaries are installed, a throwaway cluster is made with
 * initdb in a temp directory, on a free port, for this run only; its URL reaches the workers through
 * SLUICE_TEST_PG.
 */
export async function probeServices(): Promise<ServiceSetup> {
  const probes: ServiceProbe[] = [];
  let cluster: PgCluster | undefined;

  const serverBin = pgServerBin();
  probes.push(
    serverBin
      ? { name: "postgres-binaries", detail: serverBin }
      : {
          name: "postgres-binaries",
          missing: "PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql",
        },
  );

  const configured = process.env.SLUICE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
  const refused = await pgAnswers(configured);
  if (!refused) probes.push({ name: "postgres", detail: configured.replace(/:[^:@/]*@/, ":***@") });
  else if (serverBin) {
    try {
      cluster = await startPgCluster();
      process.env.SLUICE_TEST_PG = cluster.url;
      probes.push({ name: "postgres", detail: `${cluster.url} (throwaway cluster started for this run)` });
    } catch (err) {
      probes.push({
        name: "postgres",
        missing: `no server at ${configured} (${refused}) and a throwaway one failed to start: ${(err as Error).message.split("\n")[0]}`,
      });
    }
  } else {
    probes.push({
      name: "postgres",
      missing: `no server at ${configured} (${refused}) and no server binaries to start one: apt-get install postgresql`,
    });
  }

  probes.push(await probeMariaDb());
  const tools = ["pg_dump", "mysqldump", "sqlite3"].filter((t) => !onPath(t));
  probes.push(
    tools.length === 0
      ? { name: "dump-tools", detail: "pg_dump, mysqldump, sqlite3" }
      : {
          name: "dump-tools",
          missing: `${tools.join(", ")} missing: apt-get install -y postgresql-client mariadb-client sqlite3`,
        },
  );
  probes.push(
    found("chromium", existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : undefined, "apt-get install -y chromium"),
    found("faketime", libfaketime(), "apt-get install -y faketime"),
    found("systemd-analyze", onPath("systemd-analyze"), "apt-get install -y systemd"),
    found("npm", onPath("npm"), "it comes with Node.js"),
  );

  return {
    probes,
    stop() {
      cluster?.destroy();
    },
  };
}

function found(name: ServiceName, path: string | undefined, install: string): ServiceProbe {
  return path ? { name, detail: path } : { name, missing: `${name} missing: ${install}` };
}

/** The machine's MariaDB (or MySQL) on 127.0.0.1:3306 as root without a password; SLUICE_TEST_MYSQL overrides. */
async function probeMariaDb(): Promise<ServiceProbe> {
  const url = process.env.SLUICE_TEST_MYSQL ?? "mysql://root@127.0.0.1:3306/";
  try {
    const { createConnection } = await import("mysql2/promise");
    const c = await createConnection({ uri: url, connectTimeout: 3000 });
    const [rows] = await c.query("SELECT VERSION() AS v");
    await c.end();
    return { name: "mariadb", detail: `${url} (${(rows as { v: string }[])[0]?.v})` };
  } catch (err) {
    return {
      name: "mariadb",
      missing: `no MariaDB/MySQL at ${url} (${(err as Error).message}): apt-get install -y mariadb-server, or set SLUICE_TEST_MYSQL`,
    };
  }
}

/** libfaketime's multi-threaded preload library, wherever this machine's multiarch layout put it. */
export function libfaketime(): string | undefined {
  let arch = "x86_64-linux-gnu";
  try {
    arch =
      execFileSync("gcc", ["-dumpmachine"], { stdio: ["ignore", "pipe", "ignore"] })
        .toString()
        .trim() || arch;
  } catch {
    // no compiler: keep the common default
  }
  for (const dir of [`/usr/lib/${arch}/faketime`, "/usr/lib/x86_64-linux-gnu/faketime", "/usr/lib/faketime"]) {
    const p = join(dir, "libfaketimeMT.so.1");
    if (existsSync(p)) return p;
  }
  return undefined;
}
