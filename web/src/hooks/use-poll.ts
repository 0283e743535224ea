import { useEffect, useRef, useState } from "react";
import { Poller, type PollState } from "../lib/poller";

export interface Polled<T> extends PollState<T> {
  /** Fetch now (after an action), without waiting for the next tick. */
  refresh(): void;
}

/**
 * Calls `load` now and every `intervalMs` while the tab is visible (a hidden tab costs the server nothing), and
 * anew whenever `key` changes (the previous key's request is aborted). At most one request in flight; `stale`
 * says the server is slower than the interval (see {@link Poller}).
 */
export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, intervalMs: number, key: string): Polled<T> {
  const [state, setState] = useState<PollState<T>>({ data: null, error: null, stale: false });
  const loadRef = useRef(load);
  loadRef.current = load;
  const poller = useRef<Poller<T> | null>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` is the reload trigger by design
  useEffect(() => {
    setState({ data: null, error: null, stale: false });
    const p = new Poller<T>(
      (signal) => loadRef.current(signal),
      intervalMs,
      setState,
      () => Date.now(),
      () => document.visibilityState === "visible",
    );
    poller.current = p;
    p.start();
    const onVisible = () => p.tick();
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      p.stop();
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [key, intervalMs]);

  return { ...state, refresh: () => poller.current?.refresh() };
}
