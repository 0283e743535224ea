// Types of counting-proxy.mjs (plain JavaScript so that the benchmark can run it without a build).

/** One request as the proxy saw it: method and path (no query), and the status the target answered. */
export interface SeenRequest {
  method: string;
  path: string;
  status: number;
}

export interface CountingProxy {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** Every request answered since start (or since the last {@link reset}), in the order they were answered. */
  seen(): SeenRequest[];
  reset(): void;
  /**
   * Flips one byte in the body of the next `n` PUT requests whose path ends with `pathSuffix` (the byte in the
   * middle of the first chunk): bytes corrupted in flight, with Content-Length and signature untouched.
   */
  corruptNextPuts(pathSuffix: string, n?: number): void;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of `target` (http://127.0.0.1:PORT) that passes requests through byte for byte (Host
 * included, so SigV4 holds) and records each one, to count what a client really sends.
 */
export function startCountingProxy(target: string): Promise<CountingProxy>;
