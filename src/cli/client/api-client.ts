import { randomUUID } from "node:crypto";
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
 * Streams one file as `multipart/form-data` (field `file`) to POST /api/v1/files,
 * never holding it in memory; `onProgress` hears the bytes of the file sent so far.
 */
export function uploadFile(
  o: ClientOptions,
  path: string,
  onProgress: (sent: number, total: number) => void,
): Promise<{ id: string; name: string; status: string }> {
  const size = statSync(path).size;
  const boundary = `sluice-${randomUUID()}`;
  const name = basename(path).replace(/["\r\n]/g, "_");
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n` +
      "Content-Type: application/octet-stream\r\n\r\n",
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const url = new URL("/api/v1/files", o.server);
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: "POST",
      headers: {
        ...headers(o),
        "content-type": `multipart/form-data; boundary=${boundary}`,
        "content-length": String(head.length + size + tail.length),
      },
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
    req.write(head);
    let sent = 0;
    const file = createReadStream(path, { highWaterMark: 1 << 20 });
    file.on("data", (chunk) => {
      sent += chunk.length;
      onProgress(sent, size);
    });
    file.on("error", (err) => req.destroy(err));
    file.on("end", () => req.end(tail));
    file.pipe(req, { end: false });
  });
}
