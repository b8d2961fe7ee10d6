import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("migrations");
  return {
    plugins: [
      cloudflareTest({
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        // Every test client shares one address and sends in bursts: tests that check the limits
        // lower them for themselves (createApp().request with their own env).
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            RATE_SEND_LIMIT: "1000000",
            RATE_SIGNUP_LIMIT: "1000000",
            RATE_LOGIN_LIMIT: "1000000",
            RATE_TOKEN_LIMIT: "1000000",
            RATE_EDIT_LIMIT: "1000000",
            RATE_CONNECT_LIMIT: "1000000",
            RATE_REGISTER_LIMIT: "1000000",
            // Tests reach the Worker as http://hey.test, not a loopback host, so the issuer must be set.
            ISSUER: "http://hey.test",
          },
        },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      // Node-side suites against a real wrangler dev: npm run test:e2e / test:browser.
      exclude: ["test/e2e/**", "test/browser/**"],
      setupFiles: ["./test/support/apply-migrations.ts"],
      // Two cores run several workerd test files at once; concurrency tests need room, not speed.
      testTimeout: 30_000,
    },
  };
});
