import { readdirSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { SLUICE_BIN, SluiceProcess } from "./cli.js";
import { sleep } from "./fixtures.js";
import type { Sandbox } from "./sandbox.js";

/**
 * Raw HTTP/1.1 over a real socket, for what fetch cannot do: headers or a
 * body that stop half-way, a body dripped byte by byte, a Content-Length
 * larger than the body. Used against a real `sluice serve` process.
 */

export const BOUNDARY = "----sluice-test-boundary";

/** The opening of one `file` part of a multipart body. */
export function partHead(filename: string): string {
  return (
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
    "Content-Type: application/octet-stream\r\n\r\n"
  );
}

/** A multipart body of `file` parts; `closed: false` leaves off the closing boundary (more parts to follow). */
export function multipartBody(parts: { name: string; data: string | Buffer }[], closed = true): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) chunks.push(Buffer.from(partHead(p.name)), Buffer.from(p.data), Buffer.from("\r\n"));
  if (closed) chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

/**
 * The request head of `POST /api/v1/files` to sluice on 127.0.0.1:`port` declaring `contentLength` bytes of
 * multipart body, with the Host and X-Sluice-Request headers a same-site client sends.
 */
export function uploadHead(contentLength: number, port: number): string {
  return (
    `POST /api/v1/files HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Sluice-Request: 1\r\n` +
    `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${contentLength}\r\n\r\n`
  );
}

/** A client connection: what it received, and when the server closed it. */
export interface RawConn {
  socket: Socket;
  received(): string;
  /** Resolves with the ms from connect to the socket's close. */
  closed: Promise<number>;
  isClosed(): boolean;
}

export async function rawConnect(port: number, opts: { localAddress?: string } = {}): Promise<RawConn> {
  const started = Date.now();
  const socket = connect({ host: "127.0.0.1", port, ...opts });
  let data = "";
  let done = false;
  socket.setEncoding("utf8").on("data", (c: string) => {
    data += c;
  });
  socket.on("error", () => undefined); // a reset is one of the ways a server closes: 'close' follows
  const closed = new Promise<number>((resolve) =>
    socket.once("close", () => {
      done = true;
      resolve(Date.now() - started);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return { socket, received: () => data, closed, isClosed: () => done };
}

/** Resolves `p`, or with "open" if it takes longer than `ms`: a close that never comes fails the test, not hangs it. */
export function within<T>(p: Promise<T>, ms: number): Promise<T | "open"> {
  return Promise.race([p, sleep(ms).then(() => "open" as const)]);
}

/** The hidden temp files uploads are received into. */
export function uploadTemps(input: string): string[] {
  try {
    return readdirSync(input).filter((n) => n.startsWith(".upload-"));
  } catch {
    return [];
  }
}

export async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** `sluice serve` on a free port of the sandbox, with `extra` flags; `wrap` runs it through a command (e.g. prlimit). */
export async function startServe(
  s: Sandbox,
  extra: string[] = [],
  spawnExtra: { env?: Record<string, string>; wrap?: string[] } = {},
): Promise<{ p: SluiceProcess; url: string; port: number }> {
  const args = ["serve", ...s.args, "--listen", "127.0.0.1:0", "--stability-seconds", "0.2", ...extra];
  const p = spawnExtra.wrap
    ? new SluiceProcess([...spawnExtra.wrap.slice(1), process.execPath, SLUICE_BIN, ...args], {
        env: spawnExtra.env,
        command: spawnExtra.wrap[0] as string,
      })
    : new SluiceProcess(args, { env: spawnExtra.env });
  try {
    await p.waitForCount("http_listening", 1);
  } catch (err) {
    p.child.kill("SIGKILL");
    throw err;
  }
  const url = String(p.named("http_listening")[0]?.address);
  return { p, url, port: Number(new URL(url).port) };
}
