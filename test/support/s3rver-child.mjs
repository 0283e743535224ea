// Runs s3rver in a process of its own: an outage test can then kill it the way an endpoint crashes
// (connections reset, then refused), and the server's buffers never count toward the test's own memory.
// Usage: node s3rver-child.mjs DIR PORT   (PORT 0 picks a free one); prints {"port":N} once listening.
import S3rver from "s3rver";

const [directory, port] = process.argv.slice(2);
if (!directory || port === undefined) {
  process.stderr.write("usage: s3rver-child.mjs DIR PORT\n");
  process.exit(2);
}
const server = new S3rver({ address: "127.0.0.1", port: Number(port), directory, silent: true });
const address = await server.run();
process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
// The parent going away (a crashed test worker) must not leave a server behind.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
