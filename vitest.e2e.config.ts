import { defineConfig } from "vitest/config";

// The reliability suite: Node talks to a real `wrangler dev` (workerd, local D1 on disk) over loopback.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
