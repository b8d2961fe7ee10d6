import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { vapidKeyPair } from "./scripts/vapid";

/**
 * workerd reports the pool's own runner WebSocket closing as a test file's runner is torn down as
 * "disconnected: WebSocket peer disconnected", on green runs too (an empty test file prints it). The pool
 * drops that line itself after 0.16.0 (cloudflare/workers-sdk#13833); Hey pins 0.15.1, whose wrangler 4.86
 * is the last to run on Node 20, so the same exact line is dropped here. All other output passes through.
 */
function dropTeardownNoise(): void {
  const teardown = /^exception = workerd\/api\/web-socket\.c\+\+:\d+: disconnected: WebSocket peer disconnected\n?$/;
  // The pool prints workerd's log lines to stdout or stderr by their level.
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => (typeof chunk === "string" && teardown.test(chunk) ? true : write(chunk, ...rest))) as typeof stream.write;
  }
}

export default defineConfig(async () => {
  dropTeardownNoise();
  const migrations = await readD1Migrations("migrations");
  const shardMigrations = await readD1Migrations("migrations-messages");
  const vapid = await vapidKeyPair();
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
            TEST_SHARD_MIGRATIONS: shardMigrations,
            RATE_SEND_LIMIT: "1000000",
            RATE_SIGNUP_LIMIT: "1000000",
            RATE_LOGIN_LIMIT: "1000000",
            RATE_TOKEN_LIMIT: "1000000",
            RATE_EDIT_LIMIT: "1000000",
            RATE_CONNECT_LIMIT: "1000000",
            RATE_REGISTER_LIMIT: "1000000",
            // A user goes offline a second after their last stream closes, so presence tests wait little.
            PRESENCE_GRACE_SECONDS: "1",
            // Tests reach the Worker as http://hey.test, not a loopback host, so the issuer must be set.
            ISSUER: "http://hey.test",
            // Push on, with a key pair made for this run (the push tests decrypt what it sends).
            VAPID_PUBLIC_KEY: vapid.publicKey,
            VAPID_PRIVATE_KEY: vapid.privateKey,
            VAPID_SUBJECT: "mailto:tests@hey.test",
            // A failed webhook delivery is retried after a second or two, not up to ten (test/webhooks.test.ts).
            WEBHOOK_RETRY_BASE_SECONDS: "1",
            WEBHOOK_RETRY_MAX_SECONDS: "2",
          },
        },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      // Node-side suites against a real wrangler dev: npm run test:e2e / test:browser.
      exclude: ["test/e2e/**", "test/browser/**"],
      setupFiles: ["./test/support/apply-migrations.ts"],
      // A loopback server (in Node) standing in for webhook receivers and push services; its origin is provided as receiverOrigin.
      globalSetup: ["./test/support/receiver-setup.ts"],
      // Two cores run several workerd test files at once; concurrency tests need room, not speed.
      testTimeout: 30_000,
    },
  };
});
