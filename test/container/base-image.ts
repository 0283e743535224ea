import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { DOCKER_HOME, type Docker } from "./docker.js";

const exec = promisify(execFile);
const HERE = import.meta.dirname;

/** The first Debian mirror apt is configured with (the one this machine can reach), else deb.debian.org. */
function debianMirror(): string {
  const files = ["/etc/apt/sources.list"];
  if (existsSync("/etc/apt/sources.list.d"))
    for (const f of readdirSync("/etc/apt/sources.list.d")) files.push(join("/etc/apt/sources.list.d", f));
  for (const f of files) {
    if (!existsSync(f)) continue;
    const text = readFileSync(f, "utf8");
    const uri = /^URIs:\s*(\S+)/m.exec(text)?.[1] ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(text)?.[1];
    if (uri && !uri.includes("security")) return uri;
  }
  return "http://deb.debian.org/debian";
}

async function hasImage(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.run(["image", "inspect", tag]);
    return true;
  } catch {
    return false;
  }
}

/**
 * No image registry is reachable here, so the base image is made: debootstrap a Debian bookworm minbase root
 * filesystem and `docker import` it, then add Node and npm from the npm registry (test/container/node-base.Dockerfile).
 * Both images are kept by the engine's data root, so this runs once per machine (a few minutes), not per test run.
 */
export async function ensureNodeBase(docker: Docker, nodeMajor: number): Promise<string> {
  const rootfsTag = "sluice-test/debian:bookworm-minbase";
  const nodeTag = `sluice-test/node:${nodeMajor}-bookworm-minbase`;
  if (!(await hasImage(docker, rootfsTag))) {
    const work = join(DOCKER_HOME, "rootfs");
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    const target = join(work, "bookworm");
    await exec("debootstrap", ["--variant=minbase", "bookworm", target, debianMirror()], {
      timeout: 900_000,
      maxBuffer: 64 << 20,
    });
    // `docker import` reads a tar of the tree on stdin.
    const tar = join(work, "rootfs.tar");
    await exec("tar", ["-C", target, "--numeric-owner", "-cf", tar, "."], { timeout: 300_000 });
    await docker.run(["import", "--message", "debootstrap --variant=minbase bookworm", tar, rootfsTag], {
      timeoutMs: 300_000,
    });
    rmSync(work, { recursive: true, force: true });
  }
  if (!(await hasImage(docker, nodeTag))) {
    const ctx = mkdtempSync(join(DOCKER_HOME, "node-ctx-"));
    try {
      const arch = process.arch === "arm64" ? "arm64" : "x64";
      const npmVersion = (await exec("npm", ["--version"])).stdout.trim();
      for (const [spec, name] of [
        [`node-linux-${arch}@${nodeMajor}`, "node.tgz"],
        [`npm@${npmVersion}`, "npm.tgz"],
      ] as const) {
        const { stdout } = await exec("npm", ["pack", spec, "--pack-destination", ctx, "--json"], {
          timeout: 300_000,
          maxBuffer: 64 << 20,
        });
        const file = (JSON.parse(stdout) as { filename: string }[])[0]?.filename as string;
        renameSync(join(ctx, file), join(ctx, name));
      }
      await docker.run(
        [
          "build",
          "--network",
          "host",
          "--build-arg",
          `ROOTFS_IMAGE=${rootfsTag}`,
          "-f",
          join(HERE, "node-base.Dockerfile"),
          "-t",
          nodeTag,
          ctx,
        ],
        { timeoutMs: 600_000 },
      );
    } finally {
      rmSync(ctx, { recursive: true, force: true });
    }
  }
  return nodeTag;
}
