// Builds the web client into public/app/, which Workers static assets serve at /app/.
// Run from the repository root as `vite build web` (npm run build:app): this folder is Vite's root.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  base: "/app/",
  // No dev server or public folder: the worker serves the built files (`npm run dev`).
  publicDir: false,
  build: {
    outDir: "../public/app",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
    rolldownOptions: {
      // The service worker is an entry of its own, at a fixed name beside index.html: its scope can be no
      // wider than its folder (/app/), and a registration names one URL for good.
      input: { index: here("index.html"), sw: here("src/sw.ts") },
      output: { entryFileNames: (chunk) => (chunk.name === "sw" ? "sw.js" : "assets/[name]-[hash].js") },
    },
  },
});
