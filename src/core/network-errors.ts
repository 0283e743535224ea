/**
 * Node errno codes of a peer (a database, an S3 endpoint) that is down, restarting or unreachable, or of DNS
 * failing for a while (a mistyped host is caught by the start-up checks instead). One list, read by the retry
 * allow-list (core/retry.ts) and by the S3 classifier (warehouse/s3/errors.ts), which cannot import each other.
 */
export const NETWORK_ERRNO: ReadonlySet<string> = new Set([
  "ETIMEDOUT",
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENETRESET",
  "EAI_AGAIN",
  "ENOTFOUND",
  "ERR_SOCKET_CONNECTION_TIMEOUT",
]);
