// The dashboard builds into the Python package, so `gridcore serve` serves it at / with no
// npm on the serving machine. `npm run dev` proxies /graphql (and its websocket) to a
// `gridcore serve` on :8000.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  build: {
    outDir: "../src/graphql_api/static", // relative to this folder (the Vite root)
    emptyOutDir: true,
    target: "es2020",
    sourcemap: false,
  },
  server: {
    proxy: {
      "/graphql": { target: "http://127.0.0.1:8000", ws: true }, // queries and subscriptions
      "/healthz": "http://127.0.0.1:8000",
    },
  },
});
