// The D1 databases a wrangler.toml binds, so every script that migrates applies every one's migrations.
import { readFileSync } from "node:fs";

/** The `binding` of each `[[d1_databases]]` entry of the wrangler.toml at `path`, in file order: DB, MESSAGES_0, … */
export function d1Bindings(path = "wrangler.toml"): string[] {
  const bindings: string[] = [];
  let inD1 = false;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const table = /^\s*\[\[?([\w.]+)\]\]?/.exec(line);
    if (table) inD1 = table[1] === "d1_databases";
    const binding = inD1 ? /^\s*binding\s*=\s*"([\w]+)"/.exec(line) : null;
    if (binding) bindings.push(binding[1]!);
  }
  return bindings;
}

/** The wrangler.toml entry of message shard `index` (a shard is added by appending one of these). */
export const shardEntry = (index: number) =>
  `\n[[d1_databases]]\nbinding = "MESSAGES_${index}"\ndatabase_name = "hey-messages-${index}"\ndatabase_id = "00000000-0000-4000-8000-${String(index + 10).padStart(12, "0")}"\nmigrations_dir = "migrations-messages"\n`;
