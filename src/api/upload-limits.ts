import type { FastifyReply, FastifyRequest } from "fastify";
import { sendError, writeRawError } from "./errors.js";

/** How long a client refused for too many uploads is told to wait (Retry-After, seconds). */
export const RETRY_AFTER_SECONDS = 5;

/** How long the rest of a refused request's body is read and dropped before its connection is cut. */
export const LINGER_MS = 2_000;

/**
 * Lets a refused request's answer reach a client that is still sending its body. Closing at once resets the
 * connection under the client's writes, and a client such as fetch then fails with EPIPE without reading the
 * 4xx/503 it was sent. So once the answer is out, the rest of the body is read and dropped, as Apache's and nginx's
 * lingering close do, for at most LINGER_MS (a body of gigabytes is not read to its end); the connection is cut
 * then if the body is still coming, and stays open for the next request if it ended.
 */
export function lingeringClose(reply: FastifyReply): void {
  const req = reply.request.raw;
  // app.inject()'s requests have no real socket (light-my-request gives a stand-in without destroy(): its timer
  // threw once a test file ran longer than the linger after such an upload).
  if (req.complete || typeof req.socket?.destroy !== "function") return;
  reply.raw.once("finish", () => {
    if (req.complete) return;
    const socket = req.socket;
    const cut = setTimeout(() => socket.destroy(), LINGER_MS);
    cut.unref();
    req.once("end", () => clearTimeout(cut));
    socket.once("close", () => clearTimeout(cut));
    req.resume();
  });
}

export interface UploadLimits {
  /** No byte of the body for this long: 408, closed (issue 18 V1: a stalled body held a socket and a temp file). */
  bodyIdleTimeoutMs: number;
  /** Uploads received at once, all clients together. */
  maxUploads: number;
  /** Uploads received at once from one remote address. */
  maxUploadsPerClient: number;
}

/**
 * Bounds the uploads in flight, per client address and in all. Each holds a
 * socket and a temp file descriptor until it ends, so without a bound a few
 * clients with stalled bodies exhaust the process's descriptors and even
 * `/healthz` fails (issue 18 V1). A request past the bound is refused before
 * any of its body is read; its connection is cut after a short linger (`lingeringClose`).
 */
export class UploadGate {
  private total = 0;
  private readonly byClient = new Map<string, number>();

  constructor(private readonly limits: UploadLimits) {}

  /** The onRequest hook of the upload route: admits the request (until its response closes) or answers 503. */
  readonly hook = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const client = req.socket.remoteAddress ?? "unknown";
    const mine = this.byClient.get(client) ?? 0;
    if (mine >= this.limits.maxUploadsPerClient || this.total >= this.limits.maxUploads) {
      const which =
        mine >= this.limits.maxUploadsPerClient
          ? `${mine} uploads from ${client} are already being received (--max-uploads-per-client)`
          : `${this.total} uploads are already being received (--max-uploads)`;
      req.log.warn({ event: "upload_refused", client, in_flight: this.total, from_client: mine }, which);
      reply.header("retry-after", String(RETRY_AFTER_SECONDS));
      lingeringClose(reply);
      await sendError(reply, "SLUICE_ERR_TOO_MANY_UPLOADS", which);
      return;
    }
    this.total += 1;
    this.byClient.set(client, mine + 1);
    // 'close' comes once per response, whether it finished or the connection died.
    reply.raw.once("close", () => {
      this.total -= 1;
      const left = (this.byClient.get(client) ?? 1) - 1;
      if (left > 0) this.byClient.set(client, left);
      else this.byClient.delete(client);
    });
    watchBodyIdle(req, reply, this.limits.bodyIdleTimeoutMs);
  };
}

/**
 * Closes the connection of an upload whose body sends no byte for `idleMs`
 * (a client gone silent, or a Content-Length larger than the body), answering
 * 408 first if no answer has begun. The socket's own inactivity timer, armed
 * only while the body is being received: once it is all in, the time is
 * sluice's (fsync, link), not the client's. The handler sees the request die
 * and removes what it had written (`requestDied`).
 */
function watchBodyIdle(req: FastifyRequest, reply: FastifyReply, idleMs: number): void {
  const raw = req.raw;
  // app.inject()'s requests have no socket to time out.
  if (raw.complete || typeof raw.setTimeout !== "function") return;
  const disarm = () => raw.socket?.setTimeout(0);
  raw.setTimeout(idleMs, () => {
    const socket = raw.socket;
    req.log.warn(
      { event: "upload_timeout", reason: "body_idle", client: req.socket.remoteAddress, idle_ms: idleMs },
      "upload body stalled: connection closed",
    );
    if (socket && !socket.destroyed) {
      if (!reply.raw.headersSent && socket.writable) {
        writeRawError(socket, "SLUICE_ERR_REQUEST_TIMEOUT", `no byte of the body for ${idleMs / 1000} s`);
      }
      socket.destroySoon();
      // A peer that reads nothing would keep a half-closed socket: cut it shortly after.
      setTimeout(() => socket.destroy(), 1000).unref();
    }
  });
  raw.once("end", disarm);
  reply.raw.once("close", disarm);
}

/** The reason an upload's request died before its body was all in (the socket closed, by the client or a timeout). */
export class RequestDied extends Error {}

/** Rejects with RequestDied when the request's connection closes before its body was all received. */
export function requestDied(req: FastifyRequest): { promise: Promise<never>; stop(): void } {
  const raw = req.raw;
  let onClose = () => {};
  const promise = new Promise<never>((_, reject) => {
    onClose = () => {
      if (!raw.complete) reject(new RequestDied("the connection closed before the whole body was received"));
    };
    raw.once("close", onClose);
  });
  promise.catch(() => undefined); // raced, never awaited alone
  return { promise, stop: () => raw.off("close", onClose) };
}
