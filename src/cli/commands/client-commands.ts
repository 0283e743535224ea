import { gatherLayers, readDotEnv, resolveOptions, warnLine } from "../../config/layers.js";
import type { OptionKey } from "../../config/schema.js";
import { sleep } from "../../core/retry.js";
import { ApiCallError, type ClientOptions, getJson, uploadFile } from "../client/api-client.js";
import { describeFile, FINAL_STATUSES, type FileView, fileRow, humanBytes } from "../client/format.js";

type ClientFlags = Record<string, unknown>;

/** The command's settings (flag > SLUICE_SERVER / SLUICE_API_TOKEN > .env > config file > default); throws when bad. */
function settings<K extends OptionKey>(keys: readonly K[], f: ClientFlags) {
  const cwd = process.cwd();
  const resolved = resolveOptions(keys, gatherLayers(f, process.env, readDotEnv(cwd), cwd));
  for (const line of resolved.warnings) warnLine(line);
  return resolved.values;
}

function clientOptions(f: ClientFlags): ClientOptions {
  const s = settings(["server", "apiToken"], f);
  return { server: s.server, token: s.apiToken || null };
}

/** A bad flag or setting: one line, exit 2, as for the other commands. */
function refused(err: unknown): number {
  process.stderr.write(`sluice: ${(err as Error).message}\n`);
  return 2;
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

/** `sluice upload FILE... [--wait]`: exit 0, or 1 when a file failed (with --wait) or could not be sent. */
export async function uploadCommand(files: string[], flags: ClientFlags): Promise<number> {
  let o: ClientOptions;
  let f: { json: boolean; wait: boolean };
  try {
    o = clientOptions(flags);
    f = settings(["json", "wait"], flags);
  } catch (err) {
    return refused(err);
  }
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

export async function statusCommand(id: string, flags: ClientFlags): Promise<number> {
  let o: ClientOptions;
  let f: { json: boolean };
  try {
    o = clientOptions(flags);
    f = settings(["json"], flags);
  } catch (err) {
    return refused(err);
  }
  try {
    const view = await getJson<FileView>(o, `/api/v1/files/${encodeURIComponent(id)}`);
    process.stdout.write(f.json ? `${JSON.stringify(view)}\n` : `${describeFile(view)}\n`);
    return 0;
  } catch (err) {
    return fail(err);
  }
}

export async function lsCommand(flags: ClientFlags): Promise<number> {
  let o: ClientOptions;
  let f: { json: boolean; status: string; q: string; limit: number };
  try {
    o = clientOptions(flags);
    f = settings(["json", "status", "q", "limit"], flags);
  } catch (err) {
    return refused(err);
  }
  const params = new URLSearchParams();
  if (f.status) params.set("status", f.status);
  if (f.q) params.set("q", f.q);
  params.set("limit", String(f.limit));
  try {
    const page = await getJson<{ items: FileView[]; next_cursor: string | null }>(o, `/api/v1/files?${params}`);
    if (f.json) process.stdout.write(`${JSON.stringify(page)}\n`);
    else for (const item of page.items) process.stdout.write(`${fileRow(item)}\n`);
    return 0;
  } catch (err) {
    return fail(err);
  }
}
