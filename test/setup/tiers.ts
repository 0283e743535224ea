import type { ServiceName, ServiceProbe } from "../support/services.js";

/** The suites that need a service beyond Node.js, by the service they need. */
const NEEDS: Record<ServiceName, string> = {
  postgres: "PostgreSQL state store, cluster and contract suites",
  "postgres-binaries": "database restarts (throwaway PostgreSQL clusters)",
  mariadb: "MariaDB differential tests (real mysqldump output compared cell by cell)",
  "dump-tools": "dumps taken by the real pg_dump, mysqldump and sqlite3",
  chromium: "dashboard in a real browser (test/e2e)",
  faketime: "wall-clock jump (test/integration/clock-jump)",
  "systemd-analyze": "systemd unit check (deploy/)",
  npm: "npm pack and a global install of the tarball",
};

/** The short summary `npm test` prints before and after the run: what ran, what was skipped and why. */
export function formatTiers(probes: ServiceProbe[]): string {
  const lines = ["sluice test tiers", "  main suite (npm test): unit, processors, pipeline, crash, fuzz, API: runs"];
  for (const p of probes) {
    const what = NEEDS[p.name];
    lines.push(p.missing ? `  SKIPPED ${what}: ${p.missing}` : `  ${what}: runs (${p.detail ?? p.name})`);
  }
  lines.push(
    "  S3 on RADOS Gateway: runs; Ceph is installed with apt-get by the S3 suites when missing (root), else skipped",
    "  not in this command: npm run test:conformance (data written by others, kept beside the repository), npm run test:container (Docker)",
  );
  return lines.join("\n");
}
