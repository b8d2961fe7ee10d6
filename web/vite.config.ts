// Builds the web client into public/app/, which Workers static assets serve at /app/.
// Run from the repository root as `vite build web` (npm run build:app): this folder is Vite's root.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/app/",
  // No dev server or public folder: the worker serves the built files (`npm run dev`).
  publicDir: false,
  build: { outDir: "../public/app", emptyOutDir: true, target: "es2022", sourcemap: true },
});
