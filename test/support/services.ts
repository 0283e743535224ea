import { inject } from "vitest";

/**
 * What the global setup (test/setup/global-setup.ts) found on this machine. A suite that needs a service asks
 * `missing(name)`: undefined when it can run, else the one line saying what to install. Under CI=true the global
 * setup refuses to start when anything is missing, so nothing can pass by skipping there.
 */
export type ServiceName =
  | "postgres"
  | "postgres-binaries"
  | "mariadb"
  | "dump-tools"
  | "chromium"
  | "faketime"
  | "systemd-analyze"
  | "npm";

export interface ServiceProbe {
  name: ServiceName;
  /** Undefined when usable; else why not and what to install. */
  missing?: string;
  /** What is used, e.g. the URL of the server or the binary's path. */
  detail?: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    services: ServiceProbe[];
  }
}

const probes: ServiceProbe[] = inject("services");

export function missing(name: ServiceName): string | undefined {
  const p = probes.find((s) => s.name === name);
  if (!p) throw new Error(`service ${name} was not probed by the global setup`);
  return p.missing;
}

export function detail(name: ServiceName): string | undefined {
  return probes.find((s) => s.name === name)?.detail;
}
