import { STATUSES, type Status } from "../api/types";

/** The dashboard's pages; addresses live in the URL hash so the server only ever serves `/`. */
export type Route =
  | { page: "overview" }
  | { page: "files"; status?: Status; q?: string }
  | { page: "file"; id: string }
  | { page: "upload" }
  | { page: "errors" }
  | { page: "not-found"; path: string };

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, "") || "/";
  const [path = "/", query = ""] = raw.split("?", 2);
  const params = new URLSearchParams(query);
  const parts = path.split("/").filter(Boolean).map(safeDecode);
  if (parts.length === 0) return { page: "overview" };
  if (parts[0] === "files" && parts.length === 1) {
    const status = params.get("status");
    const q = params.get("q");
    return {
      page: "files",
      ...(status && (STATUSES as readonly string[]).includes(status) ? { status: status as Status } : {}),
      ...(q ? { q } : {}),
    };
  }
  if (parts[0] === "files" && parts.length === 2 && parts[1]) return { page: "file", id: parts[1] };
  if (parts[0] === "upload" && parts.length === 1) return { page: "upload" };
  if (parts[0] === "errors" && parts.length === 1) return { page: "errors" };
  return { page: "not-found", path };
}

export function hrefOf(route: Route): string {
  switch (route.page) {
    case "overview":
      return "#/";
    case "files": {
      const params = new URLSearchParams();
      if (route.status) params.set("status", route.status);
      if (route.q) params.set("q", route.q);
      const qs = params.toString();
      return `#/files${qs ? `?${qs}` : ""}`;
    }
    case "file":
      return `#/files/${encodeURIComponent(route.id)}`;
    case "upload":
      return "#/upload";
    case "errors":
      return "#/errors";
    case "not-found":
      return `#${route.path}`;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
