#!/usr/bin/env node
// Many small-file syscalls run on libuv's pool; its default of 4 threads starves them.
process.env.UV_THREADPOOL_SIZE ??= "16";
const { main } = await import("../dist/cli/main.js");
await main(process.argv);
