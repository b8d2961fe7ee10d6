import { defineConfig } from "drizzle-kit";

/** The message shards' schema (every MESSAGES_<n> database); the main database's is drizzle.config.ts. */
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/shard-schema.ts",
  out: "./migrations-messages",
});
