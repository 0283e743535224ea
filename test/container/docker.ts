import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileP = promisify(execFile);

/**
 * A Docker engine for the container tier: the one DOCKER_HOST names, else Debian's dockerd started here as root
 * with its own data root and socket (no bridge, no iptables: every build and container uses the host network),
 * kept under /var/tmp so that base images built once are reused by later runs.
 */
export interface Docker {
  host: string;
  run(args: string[], opts?: { timeoutMs?: number; input?: string }): Promise<{ stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/** Debian's docker.io client: its built-in BuildKit takes `--secret` without the buildx plugin. */
export const DOCKER_CLI = existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker";
export const DOCKER_HOME = "/var/tmp/sluice-test-docker";

async function answers(host: string): Promise<boolean> {
  try {
    await execFileP(DOCKER_CLI, ["version", "--format", "{{.Server.Version}}"], {
      env: { ...process.env, DOCKER_HOST: host },
      timeout: 10_000,
    });
    return true;
  } catch {
    return false;
  }
}

export async function startDocker(): Promise<Docker> {
  let daemon: ChildProcess | undefined;
  let host = process.env.DOCKER_HOST ?? "";
  if (!host || !(await answers(host))) {
    host = `unix://${join(DOCKER_HOME, "docker.sock")}`;
    if (!(await answers(host))) {
      mkdirSync(DOCKER_HOME, { recursive: true });
      rmSync(join(DOCKER_HOME, "docker.pid"), { force: true });
      const log = openSync(join(DOCKER_HOME, "dockerd.log"), "a");
      daemon = spawn(
        "dockerd",
        [
          "--bridge=none",
          "--iptables=false",
          "--ip6tables=false",
          `--data-root=${join(DOCKER_HOME, "data")}`,
          `--exec-root=${join(DOCKER_HOME, "exec")}`,
          `--pidfile=${join(DOCKER_HOME, "docker.pid")}`,
          `--host=${host}`,
        ],
        { stdio: ["ignore", log, log], detached: false },
      );
      const deadline = Date.now() + 60_000;
      while (!(await answers(host))) {
        if (daemon.exitCode !== null)
          throw new Error(`dockerd exited (${daemon.exitCode}); see ${DOCKER_HOME}/dockerd.log`);
        if (Date.now() > deadline) throw new Error(`dockerd did not answer in 60 s; see ${DOCKER_HOME}/dockerd.log`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
  const env = { ...process.env, DOCKER_HOST: host, DOCKER_BUILDKIT: "1" };
  return {
    host,
    async run(args, opts = {}) {
      const child = execFileP(DOCKER_CLI, args, { env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20 });
      if (opts.input !== undefined) {
        child.child.stdin?.end(opts.input);
      }
      try {
        return await child;
      } catch (err) {
        const e = err as Error & { stdout?: string; stderr?: string };
        // The cause is at the end of a build's output.
        const out = `${e.stdout ?? ""}\n${e.stderr ?? ""}`.slice(-6000);
        throw new Error(`docker ${args.slice(0, 2).join(" ")} … failed (${e.message.split("\n")[0]}):\n${out}`);
      }
    },
    async stop() {
      if (!daemon || daemon.exitCode !== null) return;
      const exited = new Promise((r) => daemon?.once("exit", r));
      daemon.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    },
  };
}
