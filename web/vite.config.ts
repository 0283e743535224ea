import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Built into ../dist/web, which `sluice serve` serves at `/`; `npm run dev:web` proxies the API to a running sluice.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    // Served by sluice itself: no source maps shipped (they would double the download for nothing).
    sourcemap: false,
    reportCompressedSize: true,
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:8080", "/metrics": "http://127.0.0.1:8080" },
  },
});
