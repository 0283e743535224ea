import { describe, expect, it } from "vitest";
import { view } from "./test-views";
import { idsToFollow, percent, type UploadEntry, uploadsReducer } from "./uploads";

const entry = (key: string, size = 100): UploadEntry => ({
  key,
  name: `${key}.csv`,
  size,
  sent: 0,
  phase: "uploading",
});

describe("uploadsReducer", () => {
  it("tracks bytes sent, the id answered, then the status until final", () => {
    let s = uploadsReducer([], { type: "added", entries: [entry("a"), entry("b", 0)] });
    s = uploadsReducer(s, { type: "progress", key: "a", sent: 40 });
    s = uploadsReducer(s, { type: "progress", key: "a", sent: 30 }); // late event: progress never goes back
    expect(percent(s[0]!)).toBe(40);
    expect(percent(s[1]!)).toBe(100); // an empty file is fully sent
    s = uploadsReducer(s, { type: "accepted", key: "a", id: "id-a" });
    expect(s[0]).toMatchObject({ phase: "accepted", id: "id-a", status: "waiting", sent: 100 });
    expect(idsToFollow(s)).toEqual(["id-a"]);
    s = uploadsReducer(s, { type: "statuses", views: [view("id-a", "processing")] });
    expect(s[0]?.status).toBe("processing");
    s = uploadsReducer(s, { type: "statuses", views: [view("id-a", "partial")] });
    expect(s[0]?.status).toBe("partial");
    expect(idsToFollow(s)).toEqual([]);
    // A poll answered late, after the final status, does not move it back.
    const after = uploadsReducer(s, { type: "statuses", views: [view("id-a", "processing")] });
    expect(after).toBe(s);
  });

  it("keeps a failed upload with its reason and stops following it", () => {
    let s = uploadsReducer([], { type: "added", entries: [entry("a")] });
    s = uploadsReducer(s, { type: "failed", key: "a", error: "a file is larger than 10 bytes" });
    expect(s[0]).toMatchObject({ phase: "error", error: "a file is larger than 10 bytes" });
    expect(idsToFollow(s)).toEqual([]);
  });

  it("lists the newest drop first", () => {
    let s = uploadsReducer([], { type: "added", entries: [entry("a")] });
    s = uploadsReducer(s, { type: "added", entries: [entry("b"), entry("c")] });
    expect(s.map((e) => e.key)).toEqual(["b", "c", "a"]);
  });
});
