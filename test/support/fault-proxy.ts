import {
  Agent,
  type ClientRequest,
  createServer,
  type IncomingMessage,
  request,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import type { Socket } from "node:net";
import { pipeline } from "node:stream";

export interface FaultSettings {
  /** Probability per request of cutting the client connection (socket destroyed) — half of these before forwarding, half after part of the request body or response has flowed. */
  dropRate?: number;
  /** Probability per request of answering 500 InternalError or 503 SlowDown (50/50) without forwarding; body is S3-style XML `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError|SlowDown</Code><Message>injected</Message></Error>`, content-type application/xml. The request body must be drained/discarded. */
  errorRate?: number;
  /** Probability per request of stalling: holding the request for `stallMs` before forwarding (default 3000) */
  stallRate?: number;
  stallMs?: number;
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** Replaces the current settings; {} passes everything through. Applies to requests arriving from now on. */
  setFaults(f: FaultSettings): void;
  /**
   * Counters since start: requests, forwarded, dropped, errors, stalled. At most one fault per request
   * (drop, else error, else stall). `forwarded` counts requests sent to the target: stalled ones once the
   * stall is over, and drops mid-transfer (also counted as dropped). A 502 for an unreachable target is not an error.
   */
  stats(): { requests: number; forwarded: number; dropped: number; errors: number; stalled: number };
  /** Request targets (method and path, no query) that got a fault, in order: to check what was hit. */
  faulted(): string[];
  /** Stops accepting, destroys open sockets */
  close(): Promise<void>;
}

type Stats = ReturnType<FaultProxy["stats"]>;

/** mulberry32: tiny, fast and good enough to make a failing run reproducible from its seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function checkRate(name: string, v: number | undefined): void {
  if (v !== undefined && !(v >= 0 && v <= 1)) throw new RangeError(`${name} must be within [0, 1], got ${v}`);
}

// Connection and Keep-Alive describe one hop. Forwarding the target's would make the proxy's client believe
// the target's keep-alive timeout applies to its socket to the proxy, and reuse it after the proxy closed it.
const HOP_BY_HOP = new Set(["connection", "keep-alive"]);

function responseHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (!HOP_BY_HOP.has(name.toLowerCase())) out.push(name, raw[i + 1]!);
  }
  return out;
}

const xmlEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`;
  res.writeHead(status, STATUS_CODES[status], {
    "content-type": "application/xml",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

function hasRequestBody(req: IncomingMessage): boolean {
  const len = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (len !== undefined && Number(len) > 0);
}

function hasResponseBody(req: IncomingMessage, upRes: IncomingMessage): boolean {
  const status = upRes.statusCode ?? 0;
  if (req.method === "HEAD" || status === 204 || status === 304 || (status >= 100 && status < 200)) return false;
  return upRes.headers["content-length"] !== "0";
}

/**
 * A fault-injecting HTTP proxy in front of `target` (http://127.0.0.1:PORT). Requests reach the target
 * byte-for-byte as the client sent them (Host included, or SigV4 signatures break); faults are decided by
 * a PRNG seeded with `opts.seed` (default 1) in the order requests arrive.
 */
export async function startFaultProxy(target: string, opts: { seed?: number } = {}): Promise<FaultProxy> {
  const url = new URL(target);
  if (url.protocol !== "http:") throw new Error(`fault proxy target must be http://, got ${target}`);
  const targetHost = url.hostname;
  const targetPort = Number(url.port || 80);

  const random = mulberry32(opts.seed ?? 1);
  let faults: FaultSettings = {};
  const counters: Stats = { requests: 0, forwarded: 0, dropped: 0, errors: 0, stalled: 0 };
  const faultedTargets: string[] = [];
  // The SDK reuses its sockets; so does the proxy toward the target, or every request would pay a connect.
  const agent = new Agent({ keepAlive: true });
  const sockets = new Set<Socket>();

  const cutClient = (req: IncomingMessage) => req.socket.destroy();

  /** Sends the request on; with `cutMidway`, lets part of a body through and then drops the connection. */
  function forward(req: IncomingMessage, res: ServerResponse, cutMidway: boolean): void {
    counters.forwarded++;
    let cut = false;
    const cutNow = (up: ClientRequest) => {
      if (cut) return;
      cut = true;
      cutClient(req);
      up.destroy();
    };

    const up = request({
      host: targetHost,
      port: targetPort,
      method: req.method,
      path: req.url,
      // An array is sent exactly as given: no Host of node's own, names in the client's case and order.
      headers: req.rawHeaders,
      agent,
    });

    const drainClient = () => {
      req.unpipe(up);
      // Unread body left on a keep-alive socket would stall the client's upload and the next request on it.
      req.resume();
    };

    up.on("error", (err) => {
      if (cut) return;
      drainClient();
      if (res.writableEnded || res.destroyed) return;
      if (!res.headersSent) s3Error(res, 502, "BadGateway", `fault proxy: target ${target}: ${err.message}`);
      // Half a response already went out: only a cut connection tells the client it is incomplete.
      else res.destroy();
    });
    // The target may answer before reading the whole body (an early error) and close its end.
    up.on("close", () => {
      if (!cut && !req.readableEnded) drainClient();
    });

    up.on("response", (upRes) => {
      // A target dying mid-body is dealt with by pipeline or the cut; unlistened, its error would crash the run.
      upRes.on("error", () => {});
      if (cut || res.destroyed) {
        upRes.resume();
        return;
      }
      if (cutMidway && !hasResponseBody(req, upRes)) {
        cutNow(up);
        return;
      }
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, responseHeaders(upRes.rawHeaders));
      if (cutMidway) {
        upRes.once("data", (chunk: Buffer) => {
          upRes.pause();
          res.write(chunk, () => cutNow(up));
        });
        upRes.once("end", () => cutNow(up));
        return;
      }
      // pipeline destroys both ends on failure: a target dying mid-body cuts the client, and a client
      // going away mid-download frees the socket to the target.
      pipeline(upRes, res, () => {});
    });

    // A client gone before the response started would otherwise leave the target waiting for the rest of the body.
    res.once("close", () => {
      if (!res.writableFinished) up.destroy();
    });

    if (cutMidway && hasRequestBody(req)) {
      req.once("data", (chunk: Buffer) => {
        req.pause();
        up.write(chunk, () => cutNow(up));
      });
      req.once("end", () => cutNow(up)); // an empty chunked body: nothing to let through first
      return;
    }
    req.pipe(up);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    counters.requests++;
    req.on("error", () => {}); // a client hanging up mid-upload is normal here; res "close" cleans up
    res.on("error", () => {});

    // Always four draws, whatever the settings, so one request's decision never shifts the next one's.
    const [dropRoll, errorRoll, stallRoll, variant] = [random(), random(), random(), random()];
    const { dropRate = 0, errorRate = 0, stallRate = 0, stallMs = 3000 } = faults;
    const what = `${req.method} ${(req.url ?? "").split("?")[0]}`;
    if (dropRoll < dropRate || errorRoll < errorRate || stallRoll < stallRate) faultedTargets.push(what);

    if (dropRoll < dropRate) {
      counters.dropped++;
      if (variant < 0.5) cutClient(req);
      else forward(req, res, true);
      return;
    }
    if (errorRoll < errorRate) {
      counters.errors++;
      const [status, code] = variant < 0.5 ? [500, "InternalError"] : [503, "SlowDown"];
      s3Error(res, status, code, "injected");
      req.resume();
      return;
    }
    if (stallRoll < stallRate) {
      counters.stalled++;
      // The body stays unread meanwhile: backpressure holds the client the way a hung server would.
      const timer = setTimeout(() => forward(req, res, false), stallMs);
      res.once("close", () => clearTimeout(timer));
      return;
    }
    forward(req, res, false);
  }

  const server = createServer(handle);
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", () => {});
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("fault proxy: no TCP address");

  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    setFaults(f) {
      checkRate("dropRate", f.dropRate);
      checkRate("errorRate", f.errorRate);
      checkRate("stallRate", f.stallRate);
      if (f.stallMs !== undefined && !(f.stallMs >= 0)) throw new RangeError(`stallMs must be >= 0, got ${f.stallMs}`);
      faults = { ...f };
    },
    stats: () => ({ ...counters }),
    faulted: () => [...faultedTargets],
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive sockets would hold server.close() open indefinitely.
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
        agent.destroy();
      });
      return closing;
    },
  };
}
