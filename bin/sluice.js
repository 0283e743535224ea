#!/usr/bin/env node
// Many small-file syscalls run on libuv's pool; its default of 4 threads starves them.
process.env.UV_THREADPOOL_SIZE ??= "16";
// The AWS SDK warns on Node 20 that its releases after January 2027 need Node 22: advice for whoever upgrades
// sluice's dependencies (the README says so), not for an operator reading stderr on every start.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const { main } = await import("../dist/cli/main.js");
await main(process.argv);
