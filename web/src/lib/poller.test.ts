import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Poller, type PollState } from "./poller";

/** A load whose answers the test releases by hand: a server as slow as the test wants. */
function slowServer() {
  const calls: { resolve(v: number): void; reject(e: Error): void; signal: AbortSignal }[] = [];
  const load = (signal: AbortSignal) =>
    new Promise<number>((resolve, reject) => {
      calls.push({ resolve, reject, signal });
    });
  return { calls, load };
}

describe("Poller", () => {
  let states: PollState<number>[];
  let clock: number;
  beforeEach(() => {
    vi.useFakeTimers();
    states = [];
    clock = 0;
  });
  afterEach(() => vi.useRealTimers());

  it("never has more than one request in flight, however many ticks pass while the server is slow", async () => {
    const server = slowServer();
    const p = new Poller(
      server.load,
      2000,
      (s) => states.push(s),
      () => clock,
    );
    p.start();
    for (let t = 1; t <= 30; t++) {
      clock = t * 2000;
      vi.advanceTimersByTime(2000);
    }
    expect(server.calls).toHaveLength(1);
    expect(p.pending).toBe(1);
    server.calls[0]?.resolve(7);
    await vi.runOnlyPendingTimersAsync();
    expect(states.at(-1)).toEqual({ data: 7, error: null, stale: false });
    clock += 2000;
    vi.advanceTimersByTime(2000);
    expect(server.calls).toHaveLength(2);
    p.stop();
  });

  it("says stale once a request has waited longer than the interval, and clears it with the answer", async () => {
    const server = slowServer();
    const p = new Poller(
      server.load,
      2000,
      (s) => states.push(s),
      () => clock,
    );
    p.start();
    clock = 1999;
    vi.advanceTimersByTime(1999);
    expect(states).toEqual([]);
    clock = 2000;
    vi.advanceTimersByTime(1);
    expect(states.at(-1)?.stale).toBe(true);
    server.calls[0]?.resolve(1);
    await Promise.resolve();
    expect(states.at(-1)).toEqual({ data: 1, error: null, stale: false });
    p.stop();
  });

  it("keeps the last data when a request fails, and reports the failure", async () => {
    const server = slowServer();
    const p = new Poller(
      server.load,
      1000,
      (s) => states.push(s),
      () => clock,
    );
    p.start();
    server.calls[0]?.resolve(5);
    await Promise.resolve();
    clock = 1000;
    vi.advanceTimersByTime(1000);
    server.calls[1]?.reject(new Error("down"));
    await Promise.resolve();
    expect(states.at(-1)).toEqual({ data: 5, error: new Error("down"), stale: false });
    p.stop();
  });

  it("a refresh during a request asks for exactly one more, after it", async () => {
    const server = slowServer();
    const p = new Poller(
      server.load,
      60_000,
      (s) => states.push(s),
      () => clock,
    );
    p.start();
    p.refresh();
    p.refresh();
    expect(server.calls).toHaveLength(1);
    server.calls[0]?.resolve(1);
    await Promise.resolve();
    expect(server.calls).toHaveLength(2);
    server.calls[1]?.resolve(2);
    await Promise.resolve();
    expect(server.calls).toHaveLength(2);
    expect(states.at(-1)?.data).toBe(2);
    p.stop();
  });

  it("stop aborts the pending request and ignores its answer; a hidden tab polls nothing", async () => {
    const server = slowServer();
    let visible = false;
    const p = new Poller(
      server.load,
      1000,
      (s) => states.push(s),
      () => clock,
      () => visible,
    );
    p.start();
    for (let t = 1; t <= 5; t++) vi.advanceTimersByTime(1000);
    server.calls[0]?.resolve(1);
    await Promise.resolve();
    vi.advanceTimersByTime(5000);
    expect(server.calls).toHaveLength(1);
    visible = true;
    vi.advanceTimersByTime(1000);
    expect(server.calls).toHaveLength(2);
    p.stop();
    expect(server.calls[1]?.signal.aborted).toBe(true);
    server.calls[1]?.resolve(99);
    await Promise.resolve();
    expect(states.at(-1)?.data).toBe(1);
  });
});
