// Anchor of scenario h: the pure-JavaScript pipeline a Node developer would write instead of sluice.
// csv-parse (streaming) → typed rows → @dsnp/parquetjs writer, nothing else. Not repo dependencies: they are
// installed at bench time into bench/.anchors/ (git-ignored; see detectConvertAnchors in convert-anchors.mjs).
// usage: js-parquet-anchor.mjs CSV OUT [CODEC]   prints {"rows", "codec"} as JSON.
// Codec: ZSTD when @dsnp/parquetjs has it; it has not so far (UNCOMPRESSED, GZIP, SNAPPY, BROTLI), so SNAPPY:
// Parquet's usual default and, with GZIP, the fastest it offers (the two measured the same here).
import { createReadStream } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ANCHORS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", ".anchors");

const [csv, out, wanted] = process.argv.slice(2);
if (!csv || !out) {
  process.stderr.write("usage: js-parquet-anchor.mjs CSV OUT [CODEC]\n");
  process.exit(2);
}
// Resolve both packages from bench/.anchors/node_modules (they are not in the repo's node_modules).
const require = createRequire(join(ANCHORS_DIR, "package.json"));
const { parse } = require("csv-parse");
const parquet = require("@dsnp/parquetjs");
/** @type {Record<string, unknown>} */
let codecs = {};
try {
  codecs = require(
    join(dirname(require.resolve("@dsnp/parquetjs")), "lib", "compression.js"),
  ).PARQUET_COMPRESSION_METHODS;
} catch {
  // layout changed: fall back to SNAPPY, which every parquetjs has
}
const codec = wanted ?? ("ZSTD" in codecs ? "ZSTD" : "SNAPPY");

const schema = new parquet.ParquetSchema({
  sensor_id: { type: "UTF8", compression: codec },
  timestamp: { type: "TIMESTAMP_MILLIS", compression: codec },
  value: { type: "DOUBLE", compression: codec },
});
const writer = await parquet.ParquetWriter.openFile(schema, out);
const parser = createReadStream(csv).pipe(parse({ from_line: 2 }));
let rows = 0;
for await (const rec of parser) {
  const [sensorId, ts, v] = rec;
  await writer.appendRow({ sensor_id: sensorId, timestamp: new Date(ts), value: Number(v) });
  rows++;
}
await writer.close();
process.stdout.write(`${JSON.stringify({ rows, codec })}\n`);
