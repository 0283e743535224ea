import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateMultipartUploadCommand } from "@aws-sdk/client-s3";
import { afterAll } from "vitest";
import { DirSyncer } from "../../src/durable/fsync.js";
import { LocalWarehouse } from "../../src/warehouse/local/local-warehouse.js";
import { S3Warehouse } from "../../src/warehouse/s3/s3-warehouse.js";
import { S3Sink } from "../../src/warehouse/s3/sink.js";
import { radosGwUnavailable, type S3TestServer, startRadosGw, startS3rver } from "../support/s3-servers.js";
import { type WarehouseUnderTest, warehouseInterfaceContract } from "./lib/warehouse-interface.js";

/*
 * The warehouse contract run against each implementation object directly (the CLI-level contract is
 * warehouse.contract.test.ts). A new store is one folder under src/warehouse/ plus one line here.
 */

const PART = 5 * 1024 * 1024;
const stops: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

async function local(): Promise<WarehouseUnderTest> {
  const base = mkdtempSync(join(tmpdir(), "sluice-wh-contract-"));
  const root = join(base, "warehouse");
  const workArea = join(root, ".sluice-tmp");
  const warehouse = new LocalWarehouse(root, new DirSyncer(), { tmpDir: workArea });
  const { mkdir } = await import("node:fs/promises");
  await mkdir(root, { recursive: true });
  await warehouse.open();
  await mkdir(join(base, "scratch"));
  return { warehouse, scratch: join(base, "scratch"), workArea, listsUploads: false };
}

async function s3(server: S3TestServer | string, listsUploads: boolean): Promise<WarehouseUnderTest | string> {
  if (typeof server === "string") return server;
  stops.push(() => server.stop());
  const bucket = `contract-${randomBytes(4).toString("hex")}`;
  await server.createBucket(bucket);
  const sink = new S3Sink({
    location: { bucket, prefix: "wh" },
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    partSizeBytes: PART,
  });
  const warehouse = new S3Warehouse(sink);
  stops.push(() => warehouse.close());
  const scratch = mkdtempSync(join(tmpdir(), "sluice-wh-contract-s3-"));
  return {
    warehouse,
    scratch,
    workArea: join(scratch, "work"),
    listsUploads,
    leaveUnfinishedUpload: async (uri) => {
      await server.client().send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: warehouse.keyOf(uri) }));
    },
  };
}

warehouseInterfaceContract("local filesystem", local, { partBytes: PART });
warehouseInterfaceContract("s3rver", async () => s3(await startS3rver(), false), { partBytes: PART });
warehouseInterfaceContract("radosgw", async () => s3((await radosGwUnavailable()) ?? (await startRadosGw()), true), {
  partBytes: PART,
});
