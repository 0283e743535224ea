import { describe, expect, it } from "vitest";
import { hrefOf, parseRoute, type Route } from "./router";

describe("routes", () => {
  it("reads every page from the hash", () => {
    expect(parseRoute("")).toEqual({ page: "overview" });
    expect(parseRoute("#/")).toEqual({ page: "overview" });
    expect(parseRoute("#/files")).toEqual({ page: "files" });
    expect(parseRoute("#/files?status=partial&q=sens")).toEqual({ page: "files", status: "partial", q: "sens" });
    expect(parseRoute("#/files?status=bogus")).toEqual({ page: "files" });
    expect(parseRoute("#/files/01a2-x")).toEqual({ page: "file", id: "01a2-x" });
    expect(parseRoute("#/upload")).toEqual({ page: "upload" });
    expect(parseRoute("#/errors")).toEqual({ page: "errors" });
    expect(parseRoute("#/nope/x")).toEqual({ page: "not-found", path: "/nope/x" });
  });
  it("round-trips through hrefOf, including ids and searches that need escaping", () => {
    const routes: Route[] = [
      { page: "overview" },
      { page: "files", status: "failed", q: "a b&c=d" },
      { page: "file", id: "id/with?odd#chars" },
      { page: "upload" },
      { page: "errors" },
    ];
    for (const r of routes) expect(parseRoute(hrefOf(r))).toEqual(r);
  });
});
