import { createHash, randomBytes } from "node:crypto";
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { isRetriableS3Error, s3ErrorCode, s3HttpStatus } from "./errors.js";
import { joinKey } from "./keys.js";

/**
 * What the endpoint is seen to enforce on a single PutObject, which decides how many requests a small put costs
 * (docs/s3.md, "Requests per object"). Every field is true only when the server was seen REFUSING a request that
 * broke the rule: a server that ignores a header (s3rver) counts as not having the feature.
 */
export interface S3PutFeatures {
  /** `If-None-Match: *` is refused with 412 when the key exists: the put itself never writes over an object. */
  conditionalPut: boolean;
  /** A body whose SHA-256 is not the signed `x-amz-content-sha256` is refused (SigV4 payload signing). */
  payloadHashVerified: boolean;
  /** A body whose SHA-256 is not its `x-amz-checksum-sha256` is refused (S3's additional checksums). */
  checksumVerified: boolean;
}

/** Uses nothing the server was not seen to enforce: the three-request path (HEAD, PUT, HEAD). */
export const NO_PUT_FEATURES: S3PutFeatures = {
  conditionalPut: false,
  payloadHashVerified: false,
  checksumVerified: false,
};

/**
 * Requests a put of a new object up to one part costs with these features: the PUT, plus a HEAD before it
 * unless it is conditional, plus a HEAD after it unless the server verified the body's SHA-256.
 */
export function smallPutRequests(f: S3PutFeatures): 1 | 2 | 3 {
  return (1 + (f.conditionalPut ? 0 : 1) + (f.payloadHashVerified || f.checksumVerified ? 0 : 1)) as 1 | 2 | 3;
}

/** The folder under the prefix that holds the probe's objects (for the few ms they live); list() skips it. */
export const PROBE_DIR = ".sluice-probe";

const sha256 = (b: Buffer, enc: "hex" | "base64") => createHash("sha256").update(b).digest(enc);

/**
 * Signs `hex` as the payload hash instead of letting the SDK hash the body again: the SigV4 signer takes an
 * `x-amz-content-sha256` already set. For a put this is the SHA-256 the file was hashed to, so a server that
 * verifies payload hashes refuses any other bytes; the probe sets a wrong one on purpose.
 */
export function signPayloadHash<T extends PutObjectCommand>(command: T, hex: string): T {
  command.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers["x-amz-content-sha256"] = hex;
      return next(args);
    },
    { step: "build", name: "sluicePayloadHash" },
  );
  return command;
}

/** The codes servers refuse a body with when it does not match its declared hash or checksum. */
const DIGEST_REFUSALS = new Set([
  "XAmzContentSHA256Mismatch",
  "BadDigest",
  "InvalidDigest",
  "XAmzContentChecksumMismatch",
  "InvalidRequest",
]);

/** Was `err` the server refusing a body for its digest? (Not a transport failure, not some other refusal.) */
function digestRefused(err: unknown): boolean {
  const status = s3HttpStatus(err);
  return status === 400 && DIGEST_REFUSALS.has(s3ErrorCode(err) ?? "");
}

/**
 * Sends `command`; resolves "accepted" or "refused" (as `refused(err)` judges), and throws a transport failure or
 * throttling (retriable: the probe decides nothing then, the caller tries again later) or any other error.
 */
async function outcome(
  client: S3Client,
  command: PutObjectCommand,
  refused: (err: unknown) => boolean,
): Promise<"accepted" | "refused"> {
  try {
    await client.send(command);
    return "accepted";
  } catch (err) {
    if (refused(err)) return "refused";
    throw err;
  }
}

/**
 * Finds out which of {@link S3PutFeatures} the endpoint enforces, with a few tiny objects under
 * `PREFIX/.sluice-probe/<random>` that are deleted again (a failed delete is reported through `onLeftover`):
 * 1. PUT the key, then PUT it again with `If-None-Match: *` and other bytes: 412 means conditional puts work;
 *    200 means the header was ignored (the object was overwritten); a 400/501 means it is not understood.
 * 2. PUT with a wrong signed payload hash, and 3. with a wrong `x-amz-checksum-sha256`: refused for the digest
 *    means the server verifies it; accepted means it does not.
 * Throws (without deciding) when a request fails retriably or the first PUT is refused: the caller retries later.
 */
export async function probePutFeatures(
  client: S3Client,
  bucket: string,
  prefix: string,
  onLeftover: (key: string, err: unknown) => void,
): Promise<S3PutFeatures> {
  const base = joinKey(prefix, PROBE_DIR, randomBytes(8).toString("hex"));
  const keys = [base, `${base}.payload`, `${base}.checksum`];
  const [one, two] = [Buffer.from("sluice probe 1\n"), Buffer.from("sluice probe 2\n")];
  const put = (Key: string, Body: Buffer, extra: Partial<PutObjectCommand["input"]> = {}) =>
    new PutObjectCommand({ Bucket: bucket, Key, Body, ContentLength: Body.length, ...extra });
  try {
    await client.send(put(base, one));
    // 412: refused as asked. Accepted: the header was ignored. Another refusal (400, 501): it is not understood.
    const conditionalPut = await client.send(put(base, two, { IfNoneMatch: "*" })).then(
      () => false,
      (err: unknown) => {
        if (s3HttpStatus(err) === 412) return true;
        if (isRetriableS3Error(err)) throw err;
        return false;
      },
    );
    const payload = await outcome(client, signPayloadHash(put(keys[1]!, one), sha256(two, "hex")), digestRefused);
    const checksum = await outcome(
      client,
      put(keys[2]!, one, { ChecksumSHA256: sha256(two, "base64") }),
      digestRefused,
    );
    return {
      conditionalPut,
      payloadHashVerified: payload === "refused",
      checksumVerified: checksum === "refused",
    };
  } finally {
    for (const key of keys) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch((err: unknown) => {
        if (s3HttpStatus(err) !== 404) onLeftover(key, err);
      });
    }
  }
}
