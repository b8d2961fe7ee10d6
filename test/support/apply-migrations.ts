import { applyD1Migrations, env } from "cloudflare:test";
import { shardBindings } from "../../src/db/shards";

// Each test file starts from empty databases; this brings the main one and every message shard to the committed schema.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
for (const shard of shardBindings(env)) await applyD1Migrations(shard, env.TEST_SHARD_MIGRATIONS);
