import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { pipeline, Transform } from "node:stream";

/** One request as the proxy saw it: method and path (no query), and the status the target answered. */
export interface SeenRequest {
  method: string;
  path: string;
  status: number;
}

export interface CountingProxy {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** Every request forwarded since start (or since the last {@link reset}), in the order they were answered. */
  seen(): SeenRequest[];
  reset(): void;
  /**
   * Flips one byte in the body of the next `n` PUT requests whose path ends with `pathSuffix` (the byte in the
   * middle of the first chunk): bytes corrupted in flight, with Content-Length and signature untouched.
   */
  corruptNextPuts(pathSuffix: string, n?: number): void;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of `target` that passes requests through byte for byte (Host included, so SigV4
 * holds) and records each one, to count what a client really sends; optionally it corrupts a request body.
 */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const url = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  let seen: SeenRequest[] = [];
  let corrupt: { suffix: string; left: number } = { suffix: "", left: 0 };

  const flipper = () => {
    let done = false;
    return new Transform({
      transform(chunk: Buffer, _enc, cb) {
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

  function handle(req: IncomingMessage, res: ServerResponse): void {
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
      const headers: string[] = [];
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
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
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
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
        agent.destroy();
      }),
  };
}
