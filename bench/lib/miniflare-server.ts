// The benchmark's production-like runtime: the same Worker and bindings in one workerd through Miniflare,
// without `wrangler dev`'s proxy worker, its DevTools inspector and its Node process relaying events.
// `wrangler deploy --dry-run --outdir DIR` bundles the Worker offline; Miniflare serves DIR's bundle with
// the options wrangler derives from wrangler.toml (static assets left out: no benchmark route uses them),
// its D1 and Durable Object state where `wrangler dev --persist-to` and `wrangler d1 execute --local
// --persist-to` keep theirs (`<persistTo>/v3/d1`, `<persistTo>/v3/do`), so one seeded state serves both.
// The bindings may come from another wrangler.toml than the bundle's (one binding more or fewer message
// shards, see withShards in scripts/dev-server.ts): the code is the same, only the D1s it is given differ.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { Log, LogLevel, Miniflare } from "miniflare";
import type { Unstable_MiniflareWorkerOptions } from "wrangler";
import { d1Bindings } from "../../scripts/d1-bindings";
import { freePort, portFree } from "../../scripts/dev-server";

const QUIET = { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true", WRANGLER_SEND_METRICS: "false" };

function npx(args: string[], cwd: string): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn("npx", args, { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...QUIET } });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("exit", (code) => (code === 0 ? done(out) : fail(new Error(`npx ${args.join(" ")} failed (${code}): ${out.slice(-4000)}`))));
  });
}

/**
 * wrangler.toml as Miniflare options, from wrangler's own `unstable_getMiniflareWorkerOptions`, asked in a
 * child process: importing wrangler registers a SIGINT handler that exits at once, before the benchmark's
 * own could stop the servers it started.
 */
async function miniflareOptionsOf(configPath: string, root: string): Promise<{ name: string; options: Unstable_MiniflareWorkerOptions["workerOptions"] }> {
  const script = `import { unstable_getMiniflareWorkerOptions as get, unstable_readConfig as read } from "wrangler";
const path = process.argv[1];
process.stdout.write(JSON.stringify({ name: read({ config: path }).name ?? "worker", options: get(path).workerOptions }));`;
  const out = await new Promise<string>((done, fail) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script, configPath], { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...QUIET, WRANGLER_LOG: "error" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => (code === 0 ? done(stdout) : fail(new Error(`reading ${configPath} through wrangler failed (${code}): ${stderr}`))));
  });
  return JSON.parse(out.slice(out.indexOf("{"))) as { name: string; options: Unstable_MiniflareWorkerOptions["workerOptions"] };
}

export type Bundle = { dir: string; scriptPath: string; configPath: string; remove: () => void };

/**
 * Bundles the Worker as `wrangler deploy` would, without deploying: `entry` (default: wrangler.toml's
 * `main`) with the configuration in `configPath`. The bundle is named after the entry module.
 */
export async function bundleWorker(options: { root: string; configPath?: string; entry?: string }): Promise<Bundle> {
  const configPath = resolve(options.root, options.configPath ?? "wrangler.toml");
  const dir = mkdtempSync(join(tmpdir(), "hey-bundle-"));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    await npx(["wrangler", "deploy", ...(options.entry ? [options.entry] : []), "--dry-run", "--outdir", dir, "-c", configPath], options.root);
    const script = readdirSync(dir).find((f) => f.endsWith(".js"));
    if (!script) throw new Error(`wrangler deploy --dry-run wrote no bundle in ${dir}`);
    return { dir, scriptPath: join(dir, script), configPath, remove };
  } catch (error) {
    remove();
    throw error;
  }
}

export type MiniflareServer = { runtime: "production-like"; url: string; port: number; persistTo: string; log: () => string; kill: (signal?: NodeJS.Signals) => Promise<void>; inspectorPort?: number };

/**
 * Serves `bundle` from one workerd on a free loopback port (or `port`), with its D1 and Durable Object
 * state in `persistTo` (every D1's migrations applied first, as `wrangler dev` does); `vars` become
 * plain-text bindings over wrangler.toml's [vars]. `configPath` (default: the bundle's) is the
 * wrangler.toml whose bindings it serves: the D1s it names are the ones bound and migrated.
 */
export async function startMiniflareServer(options: { bundle: Bundle; persistTo: string; root: string; vars?: Record<string, string>; port?: number; configPath?: string; inspect?: boolean }): Promise<MiniflareServer> {
  const { bundle, persistTo } = options;
  const configPath = options.configPath ?? bundle.configPath;
  for (const binding of d1Bindings(configPath)) await npx(["wrangler", "d1", "migrations", "apply", binding, "--local", "--persist-to", persistTo, "-c", configPath], options.root);
  const port = options.port ?? (await freePort());
  const { name, options: workerOptions } = await miniflareOptionsOf(configPath, options.root);
  // Only to take CPU profiles (BENCH_PROFILE): an inspector makes every call dearer while it records.
  const inspectorPort = options.inspect ? await freePort() : undefined;
  const { assets: _assets, ...bindings } = workerOptions;
  let log = "";
  const keep = (d: Buffer) => {
    log = (log + d.toString()).slice(-50_000);
    // The app's warnings and errors show, as under `wrangler dev` with WRANGLER_LOG=warn.
    process.stderr.write(d);
  };
  const mf = new Miniflare({
    ...bindings,
    name,
    bindings: { ...workerOptions.bindings, ...options.vars },
    modules: true,
    scriptPath: bundle.scriptPath,
    // workerd refuses a module path outside modulesRoot: it must be the bundle's own folder.
    modulesRoot: bundle.dir,
    host: "127.0.0.1",
    port,
    // Where wrangler keeps them under --persist-to (its default persist root is `<persistTo>/v3`).
    d1Persist: join(persistTo, "v3", "d1"),
    durableObjectsPersist: join(persistTo, "v3", "do"),
    defaultPersistRoot: join(persistTo, "v3"),
    // No request log (it goes through Node for every request), no inspector unless asked.
    logRequests: false,
    ...(inspectorPort && { inspectorPort }),
    log: new Log(LogLevel.WARN),
    handleRuntimeStdio: (stdout: Readable, stderr: Readable) => {
      stdout.on("data", keep);
      stderr.on("data", keep);
    },
  });
  const url = (await mf.ready).origin;
  const kill = async () => {
    await mf.dispose();
    await portFree(port);
  };
  return { runtime: "production-like", url, port, persistTo, log: () => log, kill, ...(inspectorPort && { inspectorPort }) };
}
