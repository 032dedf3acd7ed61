/**
 * Builds the web console (console/src) into console/dist, which is committed and served by the
 * registry process (gateway/console/console-assets.ts); `npm run console:check` fails when the
 * committed build is not what this config makes from the sources. `npm run console:dev` serves
 * it with hot reload, the APIs proxied to a platform on localhost:5000 (`npm start`).
 */
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const root = import.meta.dirname;
const registry = process.env.CONSOLE_DEV_REGISTRY_URL ?? "http://localhost:5000";

export default defineConfig({
  root,
  base: "/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // Charts (ECharts) are a lazy chunk of their own; the runs table loads without them.
    chunkSizeWarningLimit: 800,
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      "^/(mlpipe|grpc)\\.": { target: registry, changeOrigin: true },
      "/console-api": { target: registry, changeOrigin: true },
    },
  },
});
