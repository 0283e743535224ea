// Anchor for scenario c: Node's raw streaming SHA-256 of one file (createReadStream → createHash),
// nothing else. Prints the hex digest. Optional second argument: the read size (highWaterMark) in bytes;
// without it, Node's default for file streams (64 KiB).
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";

const path = process.argv[2];
const readSize = Number(process.argv[3] ?? 0);
if (!path) {
  process.stderr.write("usage: raw-hash.mjs FILE\n");
  process.exit(2);
}
const hash = createHash("sha256");
await pipeline(createReadStream(path, readSize > 0 ? { highWaterMark: readSize } : {}), hash);
process.stdout.write(`${hash.digest("hex")}\n`);
