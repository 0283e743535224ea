/** A `--notify` URL split into what a notifier needs and the key its outbox rows carry. */
export interface NotifyTarget {
  kind: "webhook" | "nats";
  /** The URL as configured (credentials included: they stay in this process's memory). */
  url: URL;
  /** The URL with any user name and password removed: logs, metrics, outbox rows, `/readyz`. */
  key: string;
}

/** Is `text` a URL `--notify` accepts? (The config schema's check; the message says what is expected.) */
export function notifyUrlProblem(text: string): string | null {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return `${text}: not a URL (http://, https:// or nats://HOST:PORT/SUBJECT)`;
  }
  if (u.protocol === "http:" || u.protocol === "https:") return null;
  if (u.protocol !== "nats:") return `${text}: the scheme must be http, https or nats`;
  if (subjectOf(u) === "") return `${text}: a nats:// target names its subject as the path (nats://HOST:PORT/SUBJECT)`;
  return null;
}

export function subjectOf(u: URL): string {
  return decodeURIComponent(u.pathname.replace(/^\/+/, ""));
}

export function parseTarget(text: string): NotifyTarget {
  const problem = notifyUrlProblem(text);
  if (problem) throw new Error(problem);
  const url = new URL(text);
  const bare = new URL(text);
  bare.username = "";
  bare.password = "";
  return { kind: url.protocol === "nats:" ? "nats" : "webhook", url, key: bare.toString() };
}
