import type { ApiErrorBody } from "./types";

/** Where the token is kept: this browser tab's session only (gone when the tab closes). */
export const TOKEN_KEY = "sluice.apiToken";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Asks the operator for the API token; `rejected` when the one given was refused. */
export type TokenAsker = (reason: "missing" | "rejected") => Promise<string>;

type KeyValue = Pick<Storage, "getItem" | "setItem" | "removeItem">;

/**
 * The dashboard's only way to the server. A 401 asks for the token once,
 * however many requests were refused at the same moment, keeps it for the
 * session and retries; every other failure becomes an {@link ApiError} with
 * the server's code and message.
 */
export class ApiClient {
  private asking: Promise<string> | null = null;

  constructor(
    private readonly storage: KeyValue,
    private readonly ask: TokenAsker,
    private readonly fetchFn: typeof fetch = (...args) => fetch(...args),
  ) {}

  token(): string | null {
    return this.storage.getItem(TOKEN_KEY);
  }

  async get<T>(path: string, signal?: AbortSignal): Promise<T> {
    for (;;) {
      const sent = this.token();
      const res = await this.fetchFn(path, { headers: authHeaders(sent), ...(signal ? { signal } : {}) });
      if (res.status === 401) {
        await this.newToken(sent);
        continue;
      }
      if (!res.ok) throw await errorOf(res);
      return (await res.json()) as T;
    }
  }

  /** A POST without a body (an action on a resource, such as a requeue); the same token handling as `get`. */
  async post<T>(path: string): Promise<T> {
    for (;;) {
      const sent = this.token();
      const res = await this.fetchFn(path, { method: "POST", headers: authHeaders(sent) });
      if (res.status === 401) {
        await this.newToken(sent);
        continue;
      }
      if (!res.ok) throw await errorOf(res);
      return (await res.json()) as T;
    }
  }

  /**
   * Waits for a token other than `refused`. Concurrent callers share one
   * prompt; a caller that was refused with a token someone has since replaced
   * just retries with the new one.
   */
  async newToken(refused: string | null): Promise<string> {
    const current = this.token();
    if (current !== null && current !== refused) return current;
    if (!this.asking) {
      if (refused !== null) this.storage.removeItem(TOKEN_KEY);
      this.asking = this.ask(refused === null ? "missing" : "rejected")
        .then((t) => {
          this.storage.setItem(TOKEN_KEY, t);
          return t;
        })
        .finally(() => {
          this.asking = null;
        });
    }
    return this.asking;
  }
}

/**
 * The headers of every API call: the token if any, and X-Sluice-Request, which
 * the server requires on a POST to tell the page's own requests from a
 * cross-site form post (a page on another site cannot send it without a CORS
 * preflight, which sluice never grants).
 */
export function authHeaders(token: string | null): Record<string, string> {
  return { "x-sluice-request": "1", ...(token ? { authorization: `Bearer ${token}` } : {}) };
}

async function errorOf(res: Response): Promise<ApiError> {
  try {
    const body = (await res.json()) as Partial<ApiErrorBody>;
    return new ApiError(res.status, body.code ?? "HTTP", body.message ?? res.statusText);
  } catch {
    return new ApiError(res.status, "HTTP", `${res.status} ${res.statusText}`);
  }
}
