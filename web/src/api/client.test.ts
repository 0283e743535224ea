import { describe, expect, it } from "vitest";
import { ApiClient, ApiError, TOKEN_KEY } from "./client";

/** An in-memory sessionStorage. */
function memoryStorage(initial: Record<string, string> = {}) {
  const m = new Map(Object.entries(initial));
  return {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    removeItem: (k: string) => void m.delete(k),
    map: m,
  };
}

/** A server that wants `token`, answering after a tick so requests overlap. */
function server(token: string) {
  const seen: (string | null)[] = [];
  const fetchFn = (async (_url: string, init?: RequestInit) => {
    const auth = (init?.headers as Record<string, string> | undefined)?.authorization ?? null;
    seen.push(auth);
    await new Promise((r) => setTimeout(r, 5));
    if (auth !== `Bearer ${token}`) {
      return new Response(
        JSON.stringify({ statusCode: 401, code: "SLUICE_ERR_UNAUTHORIZED", error: "x", message: "no" }),
        {
          status: 401,
        },
      );
    }
    return new Response(JSON.stringify({ ok: true }), { status: 200 });
  }) as typeof fetch;
  return { fetchFn, seen };
}

describe("ApiClient", () => {
  it("asks once for a token when several requests are refused together, keeps it and retries them", async () => {
    const storage = memoryStorage();
    const { fetchFn } = server("t0k");
    const asked: string[] = [];
    const client = new ApiClient(
      storage,
      async (reason) => {
        asked.push(reason);
        return "t0k";
      },
      fetchFn,
    );
    const results = await Promise.all([client.get("/a"), client.get("/b"), client.get("/c")]);
    expect(results).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(asked).toEqual(["missing"]);
    expect(storage.map.get(TOKEN_KEY)).toBe("t0k");
    await client.get("/d");
    expect(asked).toHaveLength(1);
  });

  it("asks again, saying the token was refused, when the kept one no longer works", async () => {
    const storage = memoryStorage({ [TOKEN_KEY]: "old" });
    const { fetchFn, seen } = server("new");
    const asked: string[] = [];
    const client = new ApiClient(
      storage,
      async (reason) => {
        asked.push(reason);
        return "new";
      },
      fetchFn,
    );
    await client.get("/x");
    expect(asked).toEqual(["rejected"]);
    expect(seen).toEqual(["Bearer old", "Bearer new"]);
  });

  it("turns other failures into ApiError with the server's code and message", async () => {
    const fetchFn = (async () =>
      new Response(
        JSON.stringify({ statusCode: 404, code: "SLUICE_ERR_NOT_FOUND", error: "Not Found", message: "no file" }),
        {
          status: 404,
        },
      )) as typeof fetch;
    const client = new ApiClient(memoryStorage(), async () => "x", fetchFn);
    const err = await client.get("/api/v1/files/nope").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 404, code: "SLUICE_ERR_NOT_FOUND", message: "no file" });
  });
});
