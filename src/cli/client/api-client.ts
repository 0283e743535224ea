import { createReadStream, statSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { basename } from "node:path";

/** Where the server is and how to authenticate; the token comes from `--token` or SLUICE_API_TOKEN. */
export interface ClientOptions {
  server: string;
  token: string | null;
}

/** An answer that is not 2xx, in the API's error shape. */
export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly body: { error?: string; code?: string; message?: string },
  ) {
    super(`${status} ${body.error ?? "error"}${body.code ? ` (${body.code})` : ""}: ${body.message ?? ""}`.trim());
  }
}

// X-Sluice-Request: the server refuses a POST without it (a cross-site form could not send it); sent on every call.
function headers(o: ClientOptions): Record<string, string> {
  return { "x-sluice-request": "1", ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) };
}

async function parse(res: Response): Promise<unknown> {
  const text = await res.text();
  let body: unknown = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { error: text.slice(0, 200) };
  }
  if (!res.ok) throw new ApiCallError(res.status, body as { error?: string });
  return body;
}

export async function getJson<T>(o: ClientOptions, path: string): Promise<T> {
  const res = await fetch(new URL(path, o.server), { headers: headers(o) });
  return (await parse(res)) as T;
}

/**
 * Streams one file as the body of PUT /api/v1/files/{name} (the raw body: no multipart framing for the server to
 * scan), with its Content-Length, never holding it in memory; `onProgress` hears the bytes sent so far.
 *
 * No digest header is sent: computing one would read the file twice (a first pass before the first byte goes out),
 * halving the speed of a large upload from a disk that is not in the page cache. The bytes are guarded on the way by
 * TCP's checksum (and TLS's MAC over https); the server fdatasyncs them before it answers and records their SHA-256
 * when it ingests them, which `--wait` reports. A client that has the digest already (curl, a script) can send
 * `X-Sluice-Sha256` or `Content-MD5` and the server checks it while writing.
 */
export function uploadFile(
  o: ClientOptions,
  path: string,
  onProgress: (sent: number, total: number) => void,
): Promise<{ id: string; name: string; status: string }> {
  const size = statSync(path).size;
  const url = new URL(`/api/v1/files/${encodeURIComponent(basename(path))}`, o.server);
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: "PUT",
      headers: { ...headers(o), "content-type": "application/octet-stream", "content-length": String(size) },
    });
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        let body: { files?: { id: string; name: string; status: string }[] } & Record<string, unknown> = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          // An answer that is not JSON is reported by its status below.
        }
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) return reject(new ApiCallError(status, body as { error?: string }));
        const first = body.files?.[0];
        if (!first) return reject(new Error("the server accepted the upload but returned no file id"));
        resolve(first);
      });
    });
    let sent = 0;
    const file = createReadStream(path, { highWaterMark: 1 << 20 });
    file.on("data", (chunk) => {
      sent += chunk.length;
      onProgress(sent, size);
    });
    file.on("error", (err) => req.destroy(err));
    file.pipe(req);
  });
}
