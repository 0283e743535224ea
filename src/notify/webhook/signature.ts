import { createHmac } from "node:crypto";

/**
 * The Standard Webhooks signature (https://www.standardwebhooks.com): HMAC-SHA256 over `id.timestamp.body`,
 * base64, sent as `webhook-signature: v1,<signature>`. The key is the secret's bytes; a secret written the
 * Standard Webhooks way (`whsec_<base64>`) is base64-decoded first, so the common verifying libraries accept it.
 */
export function signatureKey(secret: string): Buffer {
  return secret.startsWith("whsec_") ? Buffer.from(secret.slice(6), "base64") : Buffer.from(secret, "utf8");
}

export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac("sha256", signatureKey(secret)).update(`${id}.${timestampSeconds}.${body}`).digest("base64");
  return `v1,${mac}`;
}
