import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from "@aws-sdk/client-s3";
import type { S3TestServer } from "./s3-servers.js";
import type { Sandbox } from "./sandbox.js";
import { listFiles, sha256File } from "./sandbox.js";

/** One stored object or file, keyed by its path below the warehouse root. */
export interface StoredEntry {
  size: number;
  /** SHA-256 of the bytes actually stored (downloaded and hashed for S3). */
  sha256: string;
  /** S3 only: the `x-amz-meta-sha256` the object carries. */
  metaSha256?: string | null;
}

/**
 * A warehouse the same tests run against: the local filesystem or a real
 * S3-protocol server. `args` points sluice at it; `stored` reads back what
 * landed, from the outside, without going through sluice.
 */
export interface WarehouseTarget {
  readonly name: string;
  /** Warehouse-root URI or directory, as it appears in manifest lines and state. */
  root(s: Sandbox): string;
  /** Flags replacing the sandbox's `--warehouse DIR`. */
  args(s: Sandbox): string[];
  env(): Record<string, string>;
  stored(s: Sandbox): Promise<Map<string, StoredEntry>>;
  /** S3: multipart uploads still open under the prefix (null when the server cannot list them). */
  openUploads(s: Sandbox): Promise<string[] | null>;
}

/** The sandbox's flags with `--warehouse` swapped for the target's. */
export function targetArgs(t: WarehouseTarget, s: Sandbox): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.args.length; i++) {
    if (s.args[i] === "--warehouse") {
      i++;
      continue;
    }
    out.push(s.args[i] as string);
  }
  return [...out, ...t.args(s)];
}

export const localTarget: WarehouseTarget = {
  name: "local filesystem",
  root: (s) => s.warehouse,
  args: (s) => ["--warehouse", s.warehouse],
  env: () => ({}),
  async stored(s) {
    const out = new Map<string, StoredEntry>();
    for (const f of listFiles(s.warehouse)) {
      if (f.startsWith(".sluice-tmp/")) continue;
      const p = join(s.warehouse, f);
      out.set(f, { size: statSync(p).size, sha256: sha256File(p) });
    }
    return out;
  },
  openUploads: async () => [],
};

async function hashBody(body: Readable): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of body) h.update(chunk as Buffer);
  return h.digest("hex");
}

/**
 * An S3 target: one bucket per server, one prefix per sandbox (its directory
 * name), so tests sharing a server never see each other's objects.
 */
export function s3Target(server: S3TestServer, bucket: string): WarehouseTarget {
  const prefix = (s: Sandbox) => `t/${s.root.split("/").pop()}`;
  return {
    name: server.kind,
    root: (s) => `s3://${bucket}/${prefix(s)}`,
    args: (s) => [
      "--warehouse",
      `s3://${bucket}/${prefix(s)}`,
      "--s3-endpoint",
      server.endpoint,
      "--scratch-dir",
      join(s.root, "scratch"),
      "--s3-part-size",
      String(5 * 1024 * 1024),
    ],
    env: () => ({ S3_ACCESS_KEY: server.accessKeyId, S3_SECRET_KEY: server.secretAccessKey }),
    async stored(s) {
      const client = server.client();
      const base = `${prefix(s)}/`;
      const out = new Map<string, StoredEntry>();
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: base, ...(token ? { ContinuationToken: token } : {}) }),
        );
        for (const o of page.Contents ?? []) {
          const key = o.Key as string;
          const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
          const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
          out.set(key.slice(base.length), {
            size: o.Size ?? 0,
            sha256: await hashBody(got.Body as Readable),
            metaSha256: head.Metadata?.sha256 ?? null,
          });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return out;
    },
    async openUploads(s) {
      if (!server.listsMultipartUploads) return null;
      const page = await server
        .client()
        .send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${prefix(s)}/` }));
      return (page.Uploads ?? []).map((u) => u.Key as string);
    },
  };
}
