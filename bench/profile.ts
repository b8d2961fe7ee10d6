// `npx tsx bench/profile.ts`: where a REST send's time goes. Starts `wrangler dev` with bench/profile/
// wrangler.toml (the app behind a timing probe, same bindings), times each step of the send path inside
// workerd, and compares their sum with the send and the floor as a client sees them.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, portFree, UNLIMITED } from "../scripts/dev-server";
import { HeyClient } from "../scripts/http-client";
import { summarize } from "./lib/stats";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const QUIET = { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true", WRANGLER_SEND_METRICS: "false", WRANGLER_LOG: process.env.WRANGLER_LOG ?? "warn" };
const n = Number(process.env.PROFILE_N ?? 200);

function npx(args: string[], detached = false) {
  return spawn("npx", args, { cwd: root, detached, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...QUIET } });
}

const persistTo = mkdtempSync(join(process.env.PROFILE_TMP ?? tmpdir(), "hey-profile-"));
const config = ["-c", "bench/profile/wrangler.toml"];
await new Promise<void>((resolve, reject) => npx(["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo, ...config]).on("exit", (code) => (code === 0 ? resolve() : reject(new Error("migrations failed")))));
const port = await freePort();
const vars = Object.entries(UNLIMITED).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
const child = npx(["wrangler", "dev", ...config, "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persistTo, ...vars], true);
let log = "";
child.stdout!.on("data", (d) => (log += d));
child.stderr!.on("data", (d) => (log += d));
const url = `http://127.0.0.1:${port}`;
const stop = async () => {
  try {
    process.kill(-child.pid!, "SIGTERM");
  } catch {
    return;
  }
  await portFree(port);
};
process.on("SIGINT", () => void stop().finally(() => process.exit(130)));

try {
  for (let i = 0; ; i++) {
    if (child.exitCode !== null || i > 300) throw new Error(`wrangler dev did not start: ${log}`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const api = new HeyClient(url);
  const clientId = await api.registerClient();
  const a = await api.signUpAndLogin(clientId);
  const b = await api.signUpAndLogin(clientId);
  const conversation = (await api.json("/api/conversations/", { method: "POST", token: a.token, body: { participants: [b.userId], title: "profile" } })).body.id as number;

  const client = async (name: string, work: (i: number) => Promise<unknown>) => {
    for (let i = 0; i < 20; i++) await work(-1 - i);
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await work(i);
      xs.push(performance.now() - t);
    }
    const s = summarize(xs);
    return { step: name, p50: s.p50, mean: xs.reduce((x, y) => x + y, 0) / n };
  };
  const H = { Authorization: `Bearer ${a.token}` };
  const outside = [
    ...(await (async () => {
      const out = [];
      for (const k of [0, 1, 2, 4]) out.push(await client(`client: ${k} D1 SELECT 1 in one request (probe)`, () => fetch(`${url}/__probe/d1?k=${k}`).then((r) => r.text())));
      for (const k of [1, 4]) out.push(await client(`client: ${k} DO RPC in one request (probe)`, () => fetch(`${url}/__probe/do?k=${k}`).then((r) => r.text())));
      return out;
    })()),
    await client("client: GET /healthz (the floor)", () => fetch(`${url}/healthz`).then((r) => r.text())),
    await client("client: GET /api/users/me (auth + 1 query)", () => fetch(`${url}/api/users/me/`, { headers: H }).then((r) => r.text())),
    await client("client: REST send with client_message_id", (i) => api.json(`/api/conversations/${conversation}/messages/`, { method: "POST", token: a.token, body: { message_body: `hi ${i}`, client_message_id: `client-${i}` } })),
    await client("client: REST send without key", (i) => api.json(`/api/conversations/${conversation}/messages/`, { method: "POST", token: a.token, body: { message_body: `hi ${i}` } })),
  ];
  await api.json(`/__probe?token=${a.token}&conversation=${conversation}&user=${a.userId}&n=20`);
  const probe = (await api.json(`/__probe?token=${a.token}&conversation=${conversation}&user=${a.userId}&n=${n}`)).body as { steps: { step: string; ms: number; perSecond?: number }[] };

  console.log(`\nmeasured from the client (sequential, n=${n}):`);
  for (const o of outside) console.log(`  ${o.step.padEnd(60)} p50 ${o.p50.toFixed(2).padStart(7)} ms   mean ${o.mean.toFixed(2).padStart(7)} ms`);
  console.log(`\ninside workerd, one step at a time (mean of ${n}):`);
  for (const s of probe.steps) console.log(`  ${s.step.padEnd(60)} ${s.ms.toFixed(2).padStart(7)} ms${s.perSecond ? `   (${s.perSecond}/s)` : ""}`);
  const path = ["auth: verifyAccessToken", "rate limit: take()", "membership", "currentUser", "room.send with client_message_id", "viewOf"];
  const total = probe.steps.filter((s) => path.some((p) => s.step.startsWith(p))).reduce((x, s) => x + s.ms, 0);
  console.log(`\n  a REST send's awaited steps in sequence (${path.length}):${" ".repeat(17)}${total.toFixed(2).padStart(7)} ms`);
} finally {
  await stop();
  rmSync(persistTo, { recursive: true, force: true });
}
