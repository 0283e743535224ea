import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

/** One request the proxy saw: which S3 call it was, how many body bytes arrived, and what became of it. */
export interface SeenRequest {
  method: string;
  /** `partNumber` of an UploadPart, null for any other call. */
  partNumber: number | null;
  /** A CreateMultipartUpload (`POST ?uploads`). */
  createsUpload: boolean;
  /** Body bytes received from the client (for a reset request: before the cut). */
  bytes: number;
  /** The proxy cut the client's connection instead of forwarding it. */
  reset: boolean;
}

export interface PartResetProxy {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** Every request so far, in arrival order. */
  seen(): SeenRequest[];
  close(): Promise<void>;
}

/**
 * A forwarding HTTP proxy in front of an S3 server that resets the client's connection for the first `times`
 * requests carrying `partNumber=<part>` (an UploadPart), after `cutAfterBytes` of their body have arrived, and
 * counts the body bytes of every request: so a test can see which bytes an upload sent again after a fault.
 */
export async function startPartResetProxy(
  target: string,
  fault: { part: number; times: number; cutAfterBytes: number },
): Promise<PartResetProxy> {
  const url = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  const seen: SeenRequest[] = [];
  let faultsLeft = fault.times;

  function handle(req: IncomingMessage, res: ServerResponse): void {
    req.on("error", () => {});
    res.on("error", () => {});
    const query = new URL(req.url ?? "/", "http://x").searchParams;
    const part = query.get("partNumber");
    const entry: SeenRequest = {
      method: req.method ?? "",
      partNumber: part === null ? null : Number(part),
      createsUpload: req.method === "POST" && query.has("uploads"),
      bytes: 0,
      reset: false,
    };
    seen.push(entry);
    req.on("data", (chunk: Buffer) => {
      entry.bytes += chunk.length;
    });
    if (entry.partNumber === fault.part && faultsLeft > 0) {
      faultsLeft--;
      entry.reset = true;
      req.on("data", () => {
        if (entry.bytes >= fault.cutAfterBytes) req.socket.destroy();
      });
      return;
    }
    const up = request({
      host: url.hostname,
      port: Number(url.port || 80),
      method: req.method,
      path: req.url,
      headers: req.rawHeaders,
      agent,
    });
    up.on("error", () => res.destroy());
    up.on("response", (upRes) => {
      upRes.on("error", () => res.destroy());
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, upRes.rawHeaders);
      upRes.pipe(res);
    });
    req.pipe(up);
  }

  const server = createServer(handle);
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("part reset proxy: no TCP address");
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    seen: () => seen.map((r) => ({ ...r })),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
        agent.destroy();
      }),
  };
}
