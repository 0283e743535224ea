import { ApiCallError, type ClientOptions, getJson, uploadFile } from "../client/api-client.js";
import { describeFile, FINAL_STATUSES, type FileView, fileRow, humanBytes } from "../client/format.js";

export interface ClientFlags {
  server?: string;
  token?: string;
  json?: boolean;
}

function clientOptions(f: ClientFlags): ClientOptions {
  return {
    server: f.server ?? process.env.SLUICE_SERVER ?? "http://127.0.0.1:8080",
    token: f.token ?? process.env.SLUICE_API_TOKEN ?? null,
  };
}

function fail(err: unknown): number {
  const msg = err instanceof ApiCallError ? err.message : `cannot reach the server: ${(err as Error).message}`;
  process.stderr.write(`sluice: ${msg}\n`);
  return err instanceof ApiCallError && err.status === 404 ? 3 : 1;
}

/** A progress line on stderr for files over 8 MiB, redrawn in place on a terminal. */
function progress(name: string): (sent: number, total: number) => void {
  let lastPct = -1;
  return (sent, total) => {
    if (total < 8 << 20) return;
    const pct = Math.floor((sent / total) * 100);
    if (pct === lastPct) return;
    lastPct = pct;
    const bar = "#".repeat(Math.floor(pct / 5)).padEnd(20, ".");
    const line = `${name} [${bar}] ${pct}% ${humanBytes(sent)}/${humanBytes(total)}`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}${pct === 100 ? "\n" : ""}`);
    else if (pct % 10 === 0) process.stderr.write(`${line}\n`);
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `sluice upload FILE... [--wait]`: exit 0, or 1 when a file failed (with --wait) or could not be sent. */
export async function uploadCommand(files: string[], f: ClientFlags & { wait?: boolean }): Promise<number> {
  const o = clientOptions(f);
  let code = 0;
  const accepted: { id: string; name: string; status: string }[] = [];
  for (const path of files) {
    try {
      const r = await uploadFile(o, path, progress(path));
      accepted.push(r);
      if (!f.json) process.stdout.write(`${r.id}  ${r.name}  ${r.status}\n`);
    } catch (err) {
      code = fail(err) || 1;
    }
  }
  if (!f.wait) {
    if (f.json) process.stdout.write(`${JSON.stringify(accepted)}\n`);
    return code;
  }
  const done: FileView[] = [];
  for (const a of accepted) {
    let view: FileView;
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      try {
        view = await getJson<FileView>(o, `/api/v1/files/${encodeURIComponent(a.id)}`);
        if (FINAL_STATUSES.has(view.status)) break;
      } catch (err) {
        if (!(err instanceof ApiCallError && err.status >= 500)) return fail(err);
      }
      await sleep(delay);
    }
    done.push(view);
    if (view.status === "failed") code = 1;
    if (!f.json) process.stdout.write(`${describeFile(view)}\n`);
  }
  if (f.json) process.stdout.write(`${JSON.stringify(done)}\n`);
  return code;
}

export async function statusCommand(id: string, f: ClientFlags): Promise<number> {
  try {
    const view = await getJson<FileView>(clientOptions(f), `/api/v1/files/${encodeURIComponent(id)}`);
    process.stdout.write(f.json ? `${JSON.stringify(view)}\n` : `${describeFile(view)}\n`);
    return 0;
  } catch (err) {
    return fail(err);
  }
}

export async function lsCommand(f: ClientFlags & { status?: string; limit?: string; q?: string }): Promise<number> {
  const params = new URLSearchParams();
  if (f.status) params.set("status", f.status);
  if (f.q) params.set("q", f.q);
  params.set("limit", f.limit ?? "50");
  try {
    const page = await getJson<{ items: FileView[]; next_cursor: string | null }>(
      clientOptions(f),
      `/api/v1/files?${params}`,
    );
    if (f.json) process.stdout.write(`${JSON.stringify(page)}\n`);
    else for (const item of page.items) process.stdout.write(`${fileRow(item)}\n`);
    return 0;
  } catch (err) {
    return fail(err);
  }
}
