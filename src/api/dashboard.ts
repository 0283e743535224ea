import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyPluginAsync } from "fastify";

/**
 * The page may load only its own scripts and styles and talk only to this
 * server: an injected file name shown in a table can never pull in code.
 * uPlot and React style elements through the CSSOM, which `style-src` allows.
 */
const CSP = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

/** The repository (or installed package) root: the nearest package.json named sluice above this module. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "sluice") return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("sluice: cannot find the package root to serve the dashboard from");
    dir = up;
  }
}

/** Where `npm run build` writes the dashboard (Vite's output). */
export function defaultDashboardDir(): string {
  return join(packageRoot(), "dist", "web");
}

/**
 * Serves the built dashboard at `/`. Routes are made per file at start
 * (`wildcard: false`), so unknown paths still reach the API's 404 and auth
 * handlers rather than a catch-all. Hashed assets are cached for good;
 * `index.html` is revalidated so a new build is picked up on reload.
 */
export function dashboardRoutes(dir: string): FastifyPluginAsync {
  return async (app) => {
    if (!existsSync(join(dir, "index.html"))) {
      app.get("/", { schema: { hide: true } }, async (_req, reply) =>
        reply
          .code(503)
          .type("text/plain; charset=utf-8")
          .send(`the dashboard is not built (no ${join(dir, "index.html")}): run \`npm run build\`\n`),
      );
      return;
    }
    await app.register(fastifyStatic, {
      root: dir,
      prefix: "/",
      wildcard: false,
      cacheControl: false,
      setHeaders(res, path) {
        const hashedAsset = path.includes(`${"/"}assets${"/"}`);
        res.setHeader("cache-control", hashedAsset ? "public, max-age=31536000, immutable" : "no-cache");
        res.setHeader("x-content-type-options", "nosniff");
        res.setHeader("referrer-policy", "no-referrer");
        if (path.endsWith(".html")) res.setHeader("content-security-policy", CSP);
      },
    });
  };
}
