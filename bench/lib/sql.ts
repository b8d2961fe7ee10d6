// SQL against the local D1s of a stopped server, through `wrangler d1 execute --local`: the main database
// (DB) or a message shard (MESSAGES_<n>), as bound by wrangler.toml or by the `config` given (a snapshot
// binding more shards: a shard's file is named after its database_id, the same in every runtime).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const QUIET = { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true", WRANGLER_SEND_METRICS: "false" };

/**
 * Runs `sql` (any number of statements) against the D1 `binding` (default DB) persisted in `persistTo`,
 * as `config` (default: wrangler.toml) binds it; returns each statement's rows.
 */
export async function d1(persistTo: string, sql: string, options: { binding?: string; config?: string } = {}): Promise<Record<string, unknown>[][]> {
  return (await d1Timed(persistTo, sql, options)).map((r) => r.results);
}

/** As d1, with each statement's time in the database as D1 reports it (`meta.duration`, ms). */
export async function d1Timed(persistTo: string, sql: string, options: { binding?: string; config?: string } = {}): Promise<{ results: Record<string, unknown>[]; ms: number }[]> {
  const dir = mkdtempSync(join(tmpdir(), "hey-bench-sql-"));
  const file = join(dir, "seed.sql");
  writeFileSync(file, sql);
  try {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn("npx", ["wrangler", "d1", "execute", options.binding ?? "DB", "--local", "--persist-to", persistTo, "--file", file, "--json", ...(options.config ? ["-c", options.config] : [])], {
        stdio: ["ignore", "pipe", "pipe"],
        // --json prints at the "log" level: keep it on whatever WRANGLER_LOG the benchmark runs with.
        env: { ...process.env, ...QUIET, WRANGLER_LOG: "log" },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("exit", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`wrangler d1 execute failed (${code}): ${stderr}${stdout}`))));
    });
    const parsed = JSON.parse(out.slice(out.indexOf("["))) as { results: Record<string, unknown>[]; meta?: { duration?: number } }[];
    return parsed.map((r) => ({ results: r.results, ms: Number(r.meta?.duration ?? NaN) }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A SQL string literal. */
export const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;
