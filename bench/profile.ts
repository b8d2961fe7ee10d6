// `npx tsx bench/profile.ts` (about 2 minutes): where a REST send's time goes.
// 1. `wrangler dev` with bench/profile/wrangler.toml (the app behind a timing probe, same bindings): the
//    send and the floor as a client sees them, each awaited step of the send timed inside workerd, and the
//    CPU each process spends per request at c=64.
// 2. The same worker through wrangler's API with its DevTools inspector off and on: `wrangler dev` always
//    attaches one, and it relays events for every subrequest — every local D1 query is one — to Node.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { unstable_startWorker } from "wrangler";
import { freePort, portFree, UNLIMITED } from "../scripts/dev-server";
import { HeyClient } from "../scripts/http-client";
import { load } from "./lib/load";
import { summarize } from "./lib/stats";

const QUIET = { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true", WRANGLER_SEND_METRICS: "false" };
Object.assign(process.env, QUIET, { WRANGLER_LOG: process.env.WRANGLER_LOG ?? "warn" });
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const config = join(root, "bench/profile/wrangler.toml");
const n = Number(process.env.PROFILE_N ?? 200);
const tmp = process.env.PROFILE_TMP ?? tmpdir();
const cleanups: (() => Promise<void>)[] = [];
process.once("SIGINT", () => process.exit(130));
const line = (label: string, value: string) => console.log(`  ${label.padEnd(66)} ${value}`);

function npx(args: string[], detached = false) {
  return spawn("npx", args, { cwd: root, detached, stdio: ["ignore", "pipe", "pipe"] });
}

async function migrated(): Promise<string> {
  const persistTo = mkdtempSync(join(tmp, "hey-profile-"));
  cleanups.push(async () => rmSync(persistTo, { recursive: true, force: true }));
  await new Promise<void>((resolve, reject) =>
    npx(["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo, "-c", config]).on("exit", (code) => (code === 0 ? resolve() : reject(new Error("migrations failed")))),
  );
  return persistTo;
}

/** CPU seconds so far of this process and of every process in `group`, labelled. */
function cpuTimes(group: number, port: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      if (Number(fields[2]) !== group && Number(pid) !== process.pid) continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      const label =
        Number(pid) === process.pid
          ? "the load generator (this process)"
          : cmd.includes("workerd")
            ? cmd.includes(`entry=127.0.0.1:${port}`)
              ? "workerd: wrangler's proxy (ProxyWorker, InspectorProxyWorker)"
              : "workerd: the app, its Durable Objects and local D1"
            : cmd.includes("wrangler-dist") ? "wrangler's Node process" : "npx / npm";
      out.set(label, (out.get(label) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // Gone.
    }
  }
  return out;
}

/** `wrangler dev`, as the benchmark runs it. */
async function wranglerDev(): Promise<{ url: string; port: number; group: number; stop: () => Promise<void> }> {
  const persistTo = await migrated();
  const port = await freePort();
  const vars = Object.entries(UNLIMITED).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const child = npx(["wrangler", "dev", "-c", config, "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persistTo, ...vars], true);
  // Drained and kept short: only the end matters if it fails to start.
  let log = "";
  const keep = (d: Buffer) => (log = (log + d.toString()).slice(-20_000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      return;
    }
    await portFree(port);
  };
  cleanups.push(stop);
  // However this process ends, the server it started goes with it.
  process.once("exit", () => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // Already stopped.
    }
  });
  for (let i = 0; ; i++) {
    if (child.exitCode !== null || i > 300) throw new Error(`wrangler dev did not start: ${log}`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, port, group: child.pid!, stop };
}

/** The same worker through wrangler's API, where the inspector can be turned off. */
async function startWorker(inspector: boolean): Promise<{ url: string; stop: () => Promise<void> }> {
  const persist = await migrated();
  const port = await freePort();
  const worker = await unstable_startWorker({
    config,
    bindings: Object.fromEntries(Object.entries(UNLIMITED).map(([k, v]) => [k, { type: "plain_text" as const, value: v }])),
    dev: { inspector: inspector ? {} : false, server: { hostname: "127.0.0.1", port }, persist, logLevel: "warn", watch: false },
  });
  await worker.ready;
  // dispose() returns before wrangler has finished cleaning its bundle folder, which the next worker shares.
  const stop = async () => {
    await worker.dispose();
    await new Promise((r) => setTimeout(r, 2000));
  };
  cleanups.push(stop);
  return { url: `http://127.0.0.1:${port}`, stop };
}

async function seed(url: string) {
  const api = new HeyClient(url);
  const clientId = await api.registerClient();
  const a = await api.signUpAndLogin(clientId);
  const b = await api.signUpAndLogin(clientId);
  const conversation = (await api.json("/api/conversations/", { method: "POST", token: a.token, body: { participants: [b.userId], title: "profile" } })).body.id as number;
  let k = 0;
  const send = () => ({
    method: "POST" as const,
    path: `/api/conversations/${conversation}/messages/`,
    headers: { Authorization: `Bearer ${a.token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ message_body: `profile ${k}`, client_message_id: `profile-${k++}` }),
  });
  return { api, a, conversation, send };
}

/** Sequential requests from the client: p50 in ms. */
async function sequential(work: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 20; i++) await work();
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await work();
    xs.push(performance.now() - t);
  }
  return summarize(xs).p50;
}

try {
  // 1. wrangler dev, step by step.
  const dev = await wranglerDev();
  const s = await seed(dev.url);
  const get = (path: string, token?: string) => () => fetch(`${dev.url}${path}`, token ? { headers: { Authorization: `Bearer ${token}` } } : {}).then((r) => r.text());
  console.log(`\n\`wrangler dev\`, measured from the client (p50 of ${n} requests in a row):`);
  line("GET /healthz (the floor)", `${(await sequential(get("/healthz"))).toFixed(2)} ms`);
  for (const k of [1, 4]) line(`a request making ${k} D1 round trip${k > 1 ? "s" : ""} (SELECT 1)`, `${(await sequential(get(`/__probe/d1?k=${k}`))).toFixed(2)} ms`);
  line("GET /api/users/me (auth + 1 query)", `${(await sequential(get("/api/users/me/", s.a.token))).toFixed(2)} ms`);
  line("REST send with client_message_id", `${(await sequential(async () => { const r = s.send(); await fetch(`${dev.url}${r.path}`, { method: "POST", headers: r.headers, body: r.body }).then((x) => x.text()); })).toFixed(2)} ms`);
  const probe = `/__probe?token=${s.a.token}&conversation=${s.conversation}&user=${s.a.userId}`;
  await s.api.json(`${probe}&n=20`);
  const answer = await s.api.json(`${probe}&n=${n}`);
  if (answer.status !== 200) throw new Error(`probe: ${JSON.stringify(answer.body)}`);
  const steps = (answer.body as { steps: { step: string; ms: number; perSecond?: number }[] }).steps;
  console.log(`\ninside workerd (mean of ${n}; the steps take turns):`);
  for (const st of steps) line(st.step, `${st.ms.toFixed(2).padStart(6)} ms${st.perSecond ? `   ${st.perSecond}/s` : ""}`);
  const path = steps.filter((st) => st.step.startsWith("send step"));
  line(`a REST send's ${path.length} awaited steps, in sequence`, `${path.reduce((x, st) => x + st.ms, 0).toFixed(2).padStart(6)} ms`);
  console.log(`\nCPU per request at c=64 (ms, from /proc), GET /healthz / REST send:`);
  const cpu: Record<string, number[]> = {};
  for (const request of [() => ({ path: "/healthz" }), s.send]) {
    await load({ url: dev.url, connections: 64, durationSeconds: 1, request });
    const before = cpuTimes(dev.group, dev.port);
    const r = await load({ url: dev.url, connections: 64, durationSeconds: 5, request });
    for (const [label, after] of cpuTimes(dev.group, dev.port)) (cpu[label] ??= []).push(((after - (before.get(label) ?? after)) * 1000) / r.ok);
    (cpu["(throughput)"] ??= []).push(r.rps);
  }
  const { "(throughput)": rps, ...perProcess } = cpu;
  for (const [label, [h, m]] of Object.entries(perProcess)) line(label, `${(h ?? 0).toFixed(2).padStart(6)} / ${(m ?? 0).toFixed(2).padStart(6)}`);
  line("all of them", `${Object.values(perProcess).reduce((x, v) => x + (v[0] ?? 0), 0).toFixed(2).padStart(6)} / ${Object.values(perProcess).reduce((x, v) => x + (v[1] ?? 0), 0).toFixed(2).padStart(6)}`);
  line("throughput", `${Math.round(rps![0]!)} req/s / ${Math.round(rps![1]!)} msg/s`);
  await dev.stop();

  // 2. The inspector off and on.
  console.log(`\nthe same worker through wrangler's API, DevTools inspector off / on (\`wrangler dev\` always has it on):`);
  const rows: Record<string, string[]> = {};
  for (const inspector of [false, true]) {
    const w = await startWorker(inspector);
    const t = await seed(w.url);
    const add = (label: string, value: string) => (rows[label] ??= []).push(value);
    // All with autocannon here, so the rows compare with each other and with the benchmark's.
    for (const [label, path] of [["GET /healthz at c=1, p50", "/healthz"], ["a request making 4 D1 round trips at c=1, p50", "/__probe/d1?k=4"]] as const) {
      await load({ url: w.url, connections: 1, durationSeconds: 1, request: () => ({ path }) });
      add(label, `${(await load({ url: w.url, connections: 1, durationSeconds: 4, request: () => ({ path }) })).p50.toFixed(2)} ms`);
    }
    await load({ url: w.url, connections: 1, durationSeconds: 1, request: t.send });
    const one = await load({ url: w.url, connections: 1, durationSeconds: 5, request: t.send });
    add("REST send at c=1, p50", `${one.p50.toFixed(2)} ms`);
    const many = await load({ url: w.url, connections: 64, durationSeconds: 5, request: t.send });
    add("REST send at c=64, one conversation", `${Math.round(many.rps)} msg/s`);
    await w.stop();
  }
  for (const [label, [off, on]] of Object.entries(rows)) line(label, `${off!.padStart(10)} / ${on!.padStart(10)}`);
} finally {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  rmSync(join(root, "bench/profile/.wrangler"), { recursive: true, force: true });
}
process.exit(0);
