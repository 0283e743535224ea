/**
 * Request heads of `PUT /api/v1/files/{name}` (the raw-body upload) for raw sockets (raw-http.ts), to sluice on
 * 127.0.0.1:`port`, with the Host and X-Sluice-Request headers a same-site client sends.
 */

/** A head declaring `contentLength` bytes of body. */
export function putHead(name: string, contentLength: number, port: number, extra: Record<string, string> = {}): string {
  return head(name, port, { "Content-Length": String(contentLength), ...extra });
}

/** A head announcing a chunked body (`chunk()` frames each piece, `LAST_CHUNK` ends it). */
export function putChunkedHead(name: string, port: number, extra: Record<string, string> = {}): string {
  return head(name, port, { "Transfer-Encoding": "chunked", ...extra });
}

/** One chunk of a chunked body. */
export function chunk(data: string | Buffer): Buffer {
  const b = typeof data === "string" ? Buffer.from(data) : data;
  return Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from("\r\n")]);
}

export const LAST_CHUNK = "0\r\n\r\n";

function head(name: string, port: number, fields: Record<string, string>): string {
  const lines = Object.entries(fields).map(([k, v]) => `${k}: ${v}\r\n`);
  return (
    `PUT /api/v1/files/${encodeURIComponent(name)} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Sluice-Request: 1\r\n` +
    `${lines.join("")}\r\n`
  );
}
