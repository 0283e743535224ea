// A counting (and optionally corrupting) HTTP proxy, plain JavaScript (types in counting-proxy.d.mts) so that
// the benchmark can count the requests per file of scenario j too; tests import "../support/counting-proxy.js".
import { Agent, createServer, request } from "node:http";
import { pipeline, Transform } from "node:stream";

/** @typedef {import("./counting-proxy.d.mts").CountingProxy} CountingProxy */
/** @typedef {import("./counting-proxy.d.mts").SeenRequest} SeenRequest */

/**
 * An HTTP proxy in front of `target` that passes requests through byte for byte (Host included, so SigV4
 * holds) and records each one, to count what a client really sends; optionally it corrupts a request body.
 * @param {string} target  http://127.0.0.1:PORT
 * @returns {Promise<CountingProxy>}
 */
export async function startCountingProxy(target) {
  const url = new URL(target);
  const agent = new Agent({ keepAlive: true });
  /** @type {Set<import("node:net").Socket>} */
  const sockets = new Set();
  /** @type {SeenRequest[]} */
  let seen = [];
  let corrupt = { suffix: "", left: 0 };

  const flipper = () => {
    let done = false;
    return new Transform({
      /** @param {Buffer} chunk @param {BufferEncoding} _enc @param {import("node:stream").TransformCallback} cb */
      transform(chunk, _enc, cb) {
        if (!done && chunk.length > 0) {
          done = true;
          const copy = Buffer.from(chunk);
          const at = Math.floor(copy.length / 2);
          copy[at] = (copy[at] ?? 0) ^ 0x20;
          cb(null, copy);
        } else cb(null, chunk);
      },
    });
  };

  /** @param {import("node:http").IncomingMessage} req @param {import("node:http").ServerResponse} res */
  function handle(req, res) {
    const method = req.method ?? "";
    const path = (req.url ?? "").split("?")[0] ?? "";
    req.on("error", () => {});
    res.on("error", () => {});
    const up = request({
      host: url.hostname,
      port: Number(url.port || 80),
      method,
      path: req.url,
      headers: req.rawHeaders,
      agent,
    });
    up.on("error", () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    up.on("response", (upRes) => {
      seen.push({ method, path, status: upRes.statusCode ?? 0 });
      /** @type {string[]} */
      const headers = [];
      for (let i = 0; i + 1 < upRes.rawHeaders.length; i += 2) {
        const name = upRes.rawHeaders[i] ?? "";
        if (!/^(connection|keep-alive)$/i.test(name)) headers.push(name, upRes.rawHeaders[i + 1] ?? "");
      }
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, headers);
      pipeline(upRes, res, () => {});
    });
    const mangle = method === "PUT" && corrupt.left > 0 && path.endsWith(corrupt.suffix);
    if (mangle) corrupt.left--;
    if (mangle) pipeline(req, flipper(), up, () => {});
    else req.pipe(up);
  }

  const server = createServer(handle);
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("counting proxy: no TCP address");
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    seen: () => [...seen],
    reset: () => {
      seen = [];
    },
    corruptNextPuts(pathSuffix, n = 1) {
      corrupt = { suffix: pathSuffix, left: n };
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve(undefined));
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
        agent.destroy();
      }),
  };
}
