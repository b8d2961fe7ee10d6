import { applyD1Migrations, env } from "cloudflare:test";

// Each test file starts from an empty database; this brings it to the committed schema.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
