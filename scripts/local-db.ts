// Opens the same local D1 that `npm run dev` uses (.wrangler/state), for the project's commands.
import { getPlatformProxy } from "wrangler";
import { database, type Database } from "../src/db/client";

/** Runs `work` against the local D1 and always disposes the runtime behind it. */
export async function withLocalDb<T>(work: (db: Database) => Promise<T>): Promise<T> {
  const proxy = await getPlatformProxy<Cloudflare.Env>({ configPath: "wrangler.toml" });
  try {
    return await work(database(proxy.env.DB));
  } finally {
    await proxy.dispose();
  }
}

/** Prints a one-line failure and exits non-zero. */
export function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(1);
}
