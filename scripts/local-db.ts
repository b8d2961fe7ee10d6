// Opens the same local D1 that `npm run dev` uses (.wrangler/state), for the project's commands.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { getPlatformProxy, unstable_readConfig } from "wrangler";
import { database, type Database } from "../src/db/client";

/**
 * A wrangler config holding only the D1 bindings of wrangler.toml: given the whole file, getPlatformProxy
 * warns (twice, once from wrangler and once from workerd) that the Durable Objects it cannot run here will
 * not work, which reads like an error although these commands never touch them.
 */
function d1OnlyConfig(dir: string): string {
  const { compatibility_date, d1_databases } = unstable_readConfig({ config: "wrangler.toml" }, { hideWarnings: true });
  const path = join(dir, "wrangler.json");
  writeFileSync(path, JSON.stringify({ name: "hey-scripts", compatibility_date, d1_databases }));
  return path;
}

/** Runs `work` against the local D1 and always disposes the runtime behind it. */
export async function withLocalDb<T>(work: (db: Database) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "hey-db-"));
  try {
    // The state folder wrangler dev uses by default, wherever the config lives.
    const proxy = await getPlatformProxy<Cloudflare.Env>({ configPath: d1OnlyConfig(dir), persist: { path: resolve(".wrangler/state/v3") }, envFiles: [] });
    try {
      return await work(database(proxy.env.DB));
    } finally {
      await proxy.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Prints a one-line failure and exits non-zero. */
export function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(1);
}
