// Starts and stops a real `wrangler dev` for the e2e, browser and benchmark suites.
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { d1Bindings, shardEntry } from "./d1-bindings";
import { ensureLocalVapidKeys } from "./vapid";

const QUIET = { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true", WRANGLER_SEND_METRICS: "false" };

/** A free loopback port, chosen by the OS. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/**
 * `toml` (a wrangler.toml's text) binding exactly `shards` message shards, MESSAGES_0 … MESSAGES_<shards − 1>:
 * its own entries below that are kept as they are, those at or above it are left out, and the missing ones
 * are appended (shardEntry). The other tables and entries are untouched.
 */
export function withShards(toml: string, shards: number): string {
  if (!Number.isInteger(shards) || shards < 1) throw new Error(`shards must be a whole number ≥ 1 (got ${shards})`);
  // The file as blocks, each from a table header to the line before the next one.
  const blocks: string[][] = [[]];
  for (const line of toml.split("\n")) {
    if (/^\s*\[/.test(line)) blocks.push([]);
    blocks.at(-1)!.push(line);
  }
  const shardOf = (block: string[]) => {
    if (!/^\s*\[\[\s*d1_databases\s*\]\]/.test(block[0] ?? "")) return null;
    const binding = block.map((l) => /^\s*binding\s*=\s*"MESSAGES_(\d+)"/.exec(l)).find(Boolean);
    return binding ? Number(binding[1]) : null;
  };
  const kept = blocks.filter((b) => (shardOf(b) ?? -1) < shards);
  const bound = new Set(kept.map(shardOf).filter((i) => i !== null));
  let text = kept.map((b) => b.join("\n")).join("\n");
  for (let index = 0; index < shards; index++) if (!bound.has(index)) text += shardEntry(index);
  return text;
}

/**
 * A copy of the Worker's sources to run from: `wrangler dev` reloads (and drops every request and socket)
 * whenever a watched file changes, so a suite must not run from a tree someone is editing. `shards`: its
 * wrangler.toml binds exactly that many message shards (withShards); wrangler.toml's own otherwise.
 */
export function snapshot(options: { shards?: number; from?: string } = {}): string {
  const from = options.from ?? process.cwd();
  const dir = mkdtempSync(join(tmpdir(), "hey-src-"));
  for (const entry of ["src", "public", "migrations", "migrations-messages", "wrangler.toml", "package.json", "tsconfig.json"]) {
    if (existsSync(join(from, entry))) cpSync(join(from, entry), join(dir, entry), { recursive: true });
  }
  const toml = join(dir, "wrangler.toml");
  if (options.shards !== undefined) writeFileSync(toml, withShards(readFileSync(toml, "utf8"), options.shards));
  symlinkSync(join(from, "node_modules"), join(dir, "node_modules"));
  return dir;
}

function run(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("npx", args, { cwd, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...QUIET } });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`npx ${args.join(" ")} failed: ${err}`))));
  });
}

export type DevServer = { url: string; port: number; persistTo: string; log: () => string; kill: (signal?: NodeJS.Signals) => Promise<void> };

/** Raised so one loopback client (every client here is 127.0.0.1) is not throttled by the abuse limits. */
export const UNLIMITED = {
  RATE_SEND_LIMIT: "1000000",
  RATE_EDIT_LIMIT: "1000000",
  RATE_CONNECT_LIMIT: "1000000",
  RATE_SIGNUP_LIMIT: "1000000",
  RATE_LOGIN_LIMIT: "1000000",
  RATE_PASSWORD_LIMIT: "1000000",
  RATE_TOKEN_LIMIT: "1000000",
  RATE_REGISTER_LIMIT: "1000000",
};

/**
 * Starts `wrangler dev` detached in its own process group on a free port (or `port`), with its state
 * in `persistTo` (a fresh temporary folder by default) and every database's migrations applied; `vars`
 * become `--var`s; `shards` binds exactly that many message shards (wrangler.toml binds two; 1 leaves
 * only MESSAGES_0), wrangler.toml's own when left out. It runs from a snapshot of the sources, removed
 * when it is killed.
 */
export async function startDevServer(options: { persistTo?: string; port?: number; vars?: Record<string, string>; shards?: number } = {}): Promise<DevServer> {
  const persistTo = options.persistTo ?? mkdtempSync(join(tmpdir(), "hey-"));
  const port = options.port ?? (await freePort());
  const cwd = snapshot({ shards: options.shards });
  // Push works as under `npm run dev`: a key pair of the server's own (its .dev.vars; --var wins over it).
  await ensureLocalVapidKeys(join(cwd, ".dev.vars"));
  for (const binding of d1Bindings(join(cwd, "wrangler.toml"))) await run(["wrangler", "d1", "migrations", "apply", binding, "--local", "--persist-to", persistTo], cwd);
  const vars = Object.entries(options.vars ?? {}).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const child: ChildProcess = spawn("npx", ["wrangler", "dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persistTo, ...vars], {
    cwd,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...QUIET },
  });
  let log = "";
  child.stdout?.on("data", (d) => (log += d));
  child.stderr?.on("data", (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited: ${log}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`wrangler dev did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const kill = async (signal: NodeJS.Signals = "SIGTERM") => {
    // The npx wrapper and workerd share the group: killing only the wrapper would leave workerd on the port.
    try {
      process.kill(-child.pid!, signal);
    } catch {
      return;
    }
    await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.on("exit", () => resolve())));
    await portFree(port);
    rmSync(cwd, { recursive: true, force: true });
  };
  return { url, port, persistTo, log: () => log, kill };
}

/** Waits until nothing listens on `port` any more. */
export async function portFree(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(false));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    if (free) return;
    if (Date.now() > deadline) throw new Error(`port ${port} is still held`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * SQL on the local D1 a dev server persists to `persistTo`, for what only an operator may do (make someone
 * staff). Not spawnSync: a blocked event loop misses the server closing an idle keep-alive connection, and
 * the next fetch would go out on the dead socket ("other side closed").
 */
export function localSql(persistTo: string, sql: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("npx", ["wrangler", "d1", "execute", "DB", "--local", "--persist-to", persistTo, "--command", sql], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...QUIET } });
    let out = "";
    child.stdout?.on("data", (d) => (out += d));
    child.stderr?.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`wrangler d1 execute failed:\n${out}`))));
  });
}
