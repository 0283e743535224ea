import { useCallback, useEffect, useRef, useState } from "react";

export interface Polled<T> {
  data: T | null;
  error: Error | null;
  /** Fetch now (after an action), without waiting for the next tick. */
  refresh(): void;
}

/**
 * Calls `load` now and every `intervalMs` while the tab is visible (a hidden
 * tab costs the server nothing), and again whenever `key` changes. Answers
 * that arrive after a newer request was started are dropped.
 */
export function usePoll<T>(load: () => Promise<T>, intervalMs: number, key: string): Polled<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const seq = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const run = useCallback(() => {
    const mine = ++seq.current;
    loadRef.current().then(
      (d) => {
        if (mine !== seq.current) return;
        setData(d);
        setError(null);
      },
      (e: unknown) => {
        if (mine === seq.current) setError(e instanceof Error ? e : new Error(String(e)));
      },
    );
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` is the reload trigger by design
  useEffect(() => {
    setData(null);
    run();
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") run();
    }, intervalMs);
    const onVisible = () => document.visibilityState === "visible" && run();
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisible);
      seq.current++;
    };
  }, [key, intervalMs, run]);

  return { data, error, refresh: run };
}
