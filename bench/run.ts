// `npm run bench`: latency and throughput of Hey against a real `wrangler dev` (workerd, local D1 on disk).
// Starts its own servers on free loopback ports (or uses BENCH_URL), seeds through the API and SQL, runs
// every scenario, stops what it started, prints one table and writes bench/results/latest.json.
// Every figure is also a ratio against the floor: GET /healthz on the same server at the same concurrency.
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startDevServer, UNLIMITED, type DevServer } from "../scripts/dev-server";
import { HeyClient, type Session } from "../scripts/http-client";
import { fanout, type FanoutResult } from "./lib/fanout";
import { load, type HttpRequest, type LoadResult } from "./lib/load";
import { FLOOR, table, targetLines, withRatios, type Row, type Target } from "./lib/report";
import { bulkSql, pool, seedThroughApi, type Fixture } from "./lib/seed";
import { d1 } from "./lib/sql";
import { round } from "./lib/stats";

const env = process.env;
const list = (v: string | undefined, fallback: number[]) => (v ? v.split(",").map(Number).filter((n) => n > 0) : fallback);
const num = (v: string | undefined, fallback: number) => (v && Number.isFinite(Number(v)) ? Number(v) : fallback);

const settings = {
  /** Seconds each measured run lasts, and the warm-up before it at the same concurrency. */
  duration: num(env.BENCH_DURATION, 5),
  warmup: num(env.BENCH_WARMUP, 1),
  concurrency: list(env.BENCH_CONCURRENCY, [1, 16, 64]),
  historyConcurrency: list(env.BENCH_HISTORY_CONCURRENCY, [1, 16]),
  senders: num(env.BENCH_SENDERS, 8),
  spread: num(env.BENCH_SPREAD, 100),
  members: num(env.BENCH_FANOUT_MEMBERS, 100),
  fanoutMessages: num(env.BENCH_FANOUT_MESSAGES, 50),
  fanoutIntervalMs: num(env.BENCH_FANOUT_INTERVAL_MS, 120),
  history: num(env.BENCH_HISTORY, 1_000_000),
  chats: num(env.BENCH_CHATS, 1000),
  pageSize: 20,
  /** Which scenarios to run (the floor always runs): me, history, send, spread, fanout, off. */
  scenarios: (env.BENCH_SCENARIOS ?? "me,history,send,spread,fanout,off").split(",").map((s) => s.trim()),
};
const want = (name: string) => settings.scenarios.includes(name);
if (!want("history")) Object.assign(settings, { history: 0, chats: 0 });
if (!want("fanout")) settings.members = 0;
if (!want("spread")) settings.spread = 0;

// wrangler dev logs every request from its Node process; on 2 cores that costs more than the app's own
// work (healthz at c=16 served about 3× fewer requests with it). The app's logs (warnings, errors) remain.
process.env.WRANGLER_LOG ??= "warn";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

let current: DevServer | null = null;
async function start(vars: Record<string, string>, persistTo?: string): Promise<DevServer> {
  const t = Date.now();
  current = await startDevServer({ vars, ...(persistTo ? { persistTo } : {}) });
  log(`wrangler dev up on ${current.url} in ${((Date.now() - t) / 1000).toFixed(1)} s (${Object.entries(vars).filter(([k]) => !k.startsWith("RATE_")).map(([k, v]) => `${k}=${v}`).join(" ") || "default vars"})`);
  return current;
}
async function stop(): Promise<void> {
  const server = current;
  current = null;
  await server?.kill("SIGTERM");
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping`);
    void stop().finally(() => process.exit(130));
  });
}

const rows: Row[] = [];
/**
 * Per send target, warm-ups included: 2xx answers, and how many requests at most were still in flight
 * when a run stopped (autocannon does not wait for them; they may be stored without being counted).
 */
const accepted = new Map<string, { acknowledged: number; inFlightAtStop: number }>();
const count = (key: string | undefined, r: LoadResult) => {
  if (!key) return;
  const a = accepted.get(key) ?? { acknowledged: 0, inFlightAtStop: 0 };
  accepted.set(key, { acknowledged: a.acknowledged + r.ok, inFlightAtStop: a.inFlightAtStop + r.connections });
};

async function measure(url: string, server: Row["server"], scenario: string, c: number, request: () => HttpRequest, options: { unit?: Row["unit"]; floorC?: number; count?: string } = {}): Promise<LoadResult> {
  if (settings.warmup > 0) {
    count(options.count, await load({ url, connections: c, durationSeconds: settings.warmup, request }));
  }
  const r = await load({ url, connections: c, durationSeconds: settings.duration, request });
  count(options.count, r);
  const bad = Object.entries(r.statuses).filter(([s]) => !s.startsWith("2"));
  log(`${scenario} [${server}] c=${c}: p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${Math.round(r.rps)}/s${bad.length || r.errors ? `, non-2xx ${JSON.stringify(Object.fromEntries(bad))}, errors ${r.errors}` : ""}`);
  rows.push({ server, scenario, c, p50: r.p50, p99: r.p99, rps: r.rps, unit: options.unit ?? "req/s", ok: r.ok, failed: r.failed + r.errors, floorC: options.floorC ?? c });
  return r;
}

const get = (path: string, token?: string) => (): HttpRequest => ({ path, headers: token ? { Authorization: `Bearer ${token}` } : {} });

/** Sends round-robin over the senders and `conversations`, each with its own idempotency key. */
function sends(senders: Session[], conversations: number[]) {
  const tag = randomBytes(3).toString("hex");
  let n = 0;
  return (): HttpRequest => {
    const i = n++;
    const sender = senders[i % senders.length]!;
    const conversation = conversations[i % conversations.length]!;
    return {
      method: "POST",
      path: `/api/conversations/${conversation}/messages/`,
      headers: { Authorization: `Bearer ${sender.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ message_body: `bench message ${i} from ${sender.userId}`, client_message_id: `bench-${tag}-${i}` }),
    };
  };
}

async function floors(url: string, server: Row["server"]) {
  for (const c of settings.concurrency) await measure(url, server, FLOOR, c, get("/healthz"));
}

async function sendScenarios(url: string, server: Row["server"], f: Fixture, one: number) {
  for (const c of settings.concurrency) await measure(url, server, "send: one conversation", c, sends(f.senders, [one]), { unit: "msg/s", count: `one:${one}` });
}

async function main() {
  const startedAt = new Date();
  const load0 = loadavg();
  if (load0[0]! > cpus().length) log(`warning: load average ${load0[0]!.toFixed(1)} on ${cpus().length} CPUs: something else is busy, figures will be noisy`);
  const external = env.BENCH_URL?.replace(/\/$/, "");
  let persistTo: string | undefined;
  let fanResult: FanoutResult | null = null;
  const notes: string[] = [];
  let verify: Record<string, unknown> | null = null;
  try {
    // 1. Seed through the API (real sign-ups and the OAuth flow), then the bulk through SQL while stopped.
    let url: string;
    let fixture: Fixture;
    let memberTokens: string[];
    let api: HeyClient;
    if (external) {
      url = external;
      api = new HeyClient(url);
      log(`using BENCH_URL=${url}; its abuse limits must be raised (see README), SQL-seeded scenarios are skipped`);
      fixture = await seedThroughApi(api, settings);
      log(`signing up ${settings.members} fan-out members through the API`);
      const members = await pool(Array.from({ length: settings.members }), 3, () => api.signUpAndLogin(fixture.clientId));
      memberTokens = members.map((m) => m.token);
      const owner = fixture.senders[0]!;
      // Members join through the API: only the owner may add them.
      const added = await pool(members, 4, (m) => api.json(`/api/conversations/${fixture.fan}/participants/`, { method: "POST", token: owner.token, body: { user_id: m.userId } }));
      if (added.some((r) => r.status !== 201)) throw new Error(`adding members: ${JSON.stringify(added.find((r) => r.status !== 201)?.body)}`);
    } else {
      let server = await start(UNLIMITED);
      persistTo = server.persistTo;
      url = server.url;
      api = new HeyClient(url);
      let t = Date.now();
      fixture = await seedThroughApi(api, settings);
      log(`seeded through the API in ${((Date.now() - t) / 1000).toFixed(1)} s: ${settings.senders + 1} users (sign-up + OAuth), ${settings.spread + 4} conversations`);
      const bulk = bulkSql(fixture, settings);
      memberTokens = bulk.members.map((m) => m.token);
      if (bulk.sql) {
        await stop();
        t = Date.now();
        await d1(persistTo, bulk.sql);
        log(`seeded through SQL in ${((Date.now() - t) / 1000).toFixed(1)} s: ${settings.members} fan-out members with tokens, ${settings.history.toLocaleString("en")} history messages, ${Math.max(0, settings.chats - 1)} more conversations for the reader`);
        server = await start(UNLIMITED, persistTo);
        url = server.url;
        api = new HeyClient(url);
      }
    }
    const seeded = await api.json(`/api/conversations/${fixture.history}/messages/?page=1&page_size=1`, { token: fixture.reader.token });
    if (seeded.status !== 200 || (!external && seeded.body.count !== settings.history)) throw new Error(`the history seed did not take: ${seeded.status} ${JSON.stringify(seeded.body).slice(0, 300)}`);

    // 2. Floor and an authenticated read.
    await floors(url, "on");
    if (want("me")) for (const c of settings.concurrency) await measure(url, "on", "GET /api/users/me", c, get("/api/users/me/", fixture.senders[0]!.token));

    // 3. History at depth and the chat list (read-only, on the seeded data).
    if (!external && want("history")) {
      const h = fixture.history;
      const depth = Math.floor(settings.history / 2);
      const page = Math.floor(depth / settings.pageSize) + 1;
      const reader = fixture.reader.token;
      const history: [string, string][] = [
        ["history: first page", `/api/conversations/${h}/messages/?page=1&page_size=${settings.pageSize}`],
        [`history: cursor at ${depth.toLocaleString("en")}`, `/api/conversations/${h}/messages/?after_seq=${depth}&limit=${settings.pageSize}`],
        [`history: page ${page.toLocaleString("en")}`, `/api/conversations/${h}/messages/?page=${page}&page_size=${settings.pageSize}`],
        [`GET /api/chats/ (${settings.chats.toLocaleString("en")} conversations)`, "/api/chats/"],
      ];
      for (const [name, path] of history) for (const c of settings.historyConcurrency) await measure(url, "on", name, c, get(path, reader));
    } else if (want("history")) notes.push("History and chat-list scenarios need the SQL seed: skipped with BENCH_URL.");

    // 4. Sends into one conversation and spread over many, group commit on.
    if (want("send")) await sendScenarios(url, "on", fixture, fixture.one);
    if (want("spread")) for (const c of settings.concurrency) await measure(url, "on", `send: ${settings.spread} conversations`, c, sends(fixture.senders, fixture.spread), { unit: "msg/s", count: "spread" });

    // 5. Fan-out over WebSockets.
    if (want("fanout")) {
      log(`fan-out: ${memberTokens.length} members, ${settings.fanoutMessages} messages`);
      fanResult = await fanout({ url, conversationId: fixture.fan, senderToken: fixture.senders[0]!.token, memberTokens, messages: settings.fanoutMessages, intervalMs: settings.fanoutIntervalMs, pingRounds: 20 });
      const fanName = `fan-out to ${fanResult.members} WebSockets`;
      rows.push(
        { server: "on", scenario: `ws ping → pong (${fanResult.members} sockets)`, c: fanResult.members, p50: fanResult.ping.p50, p99: fanResult.ping.p99, rps: null, unit: "", floorC: 1 },
        { server: "on", scenario: `${fanName}: ack → member`, c: fanResult.members, p50: fanResult.ackToMember.p50, p99: fanResult.ackToMember.p99, rps: null, unit: "", floorC: 1 },
        { server: "on", scenario: `${fanName}: send → member`, c: fanResult.members, p50: fanResult.sendToMember.p50, p99: fanResult.sendToMember.p99, rps: null, unit: "", floorC: 1 },
        { server: "on", scenario: `${fanName}: send → ack`, c: 1, p50: fanResult.ack.p50, p99: fanResult.ack.p99, rps: null, unit: "", floorC: 1 },
      );
      log(`fan-out: ack→member p50 ${fanResult.ackToMember.p50.toFixed(2)} p99 ${fanResult.ackToMember.p99.toFixed(2)} ms; send→member p50 ${fanResult.sendToMember.p50.toFixed(2)} p99 ${fanResult.sendToMember.p99.toFixed(2)} ms; missing ${fanResult.missing}; ${fanResult.framesPerMessage} frames, ${fanResult.bytesPerMessage} bytes received per message`);
    }

    // 6. Group commit off: a second server on the same data with GROUP_COMMIT_MAX_BATCH=1.
    const offUrl = external ? env.BENCH_URL_NO_GROUP_COMMIT?.replace(/\/$/, "") : undefined;
    if (!want("off")) {
      // Not asked for.
    } else if (!external) {
      await stop();
      const off = await start({ ...UNLIMITED, GROUP_COMMIT_MAX_BATCH: "1" }, persistTo);
      await floors(off.url, "off");
      await sendScenarios(off.url, "off", fixture, fixture.oneNoGroupCommit);
      await stop();
    } else if (offUrl) {
      await floors(offUrl, "off");
      await sendScenarios(offUrl, "off", fixture, fixture.oneNoGroupCommit);
    } else notes.push("Group commit off needs BENCH_URL_NO_GROUP_COMMIT (a server with --var GROUP_COMMIT_MAX_BATCH:1) with BENCH_URL: skipped.");

    // 7. Every acknowledged send is stored once, in a gap-free order (checked in D1 with the server stopped).
    if (persistTo) {
      const targets = [fixture.one, fixture.oneNoGroupCommit, ...fixture.spread];
      const [stored] = await d1(persistTo, `SELECT conversation_id AS id, count(*) AS n, count(DISTINCT seq) AS distinct_seqs, min(seq) AS lo, max(seq) AS hi FROM messages WHERE conversation_id IN (${targets.join(",")}) GROUP BY conversation_id;`);
      const by = new Map((stored ?? []).map((r) => [Number(r.id), r as { n: number; distinct_seqs: number; lo: number; hi: number }]));
      const gapFree = [...by.values()].every((r) => r.n === r.distinct_seqs && r.lo === 1 && r.hi === r.n);
      const check = (key: string, stored: number) => {
        const a = accepted.get(key) ?? { acknowledged: 0, inFlightAtStop: 0 };
        // Every acknowledged send is stored; beyond those, at most the ones in flight when a run stopped.
        return { ...a, stored, ok: stored >= a.acknowledged && stored <= a.acknowledged + a.inFlightAtStop };
      };
      const results = {
        one: check(`one:${fixture.one}`, by.get(fixture.one)?.n ?? 0),
        oneNoGroupCommit: check(`one:${fixture.oneNoGroupCommit}`, by.get(fixture.oneNoGroupCommit)?.n ?? 0),
        spread: check("spread", sum(fixture.spread.map((id) => by.get(id)?.n ?? 0))),
      };
      verify = { gapFree, ...results, ok: gapFree && Object.values(results).every((r) => r.ok) };
      log(`verified in D1: ${JSON.stringify(verify)}`);
    }
  } finally {
    await stop();
    if (persistTo && !env.BENCH_KEEP_STATE) rmSync(persistTo, { recursive: true, force: true });
    else if (persistTo) log(`state kept in ${persistTo}`);
  }

  // The report.
  const final = withRatios(rows);
  const find = (server: Row["server"], scenario: string, c: number) => final.find((r) => r.server === server && r.scenario.startsWith(scenario) && r.c === c);
  const send1 = find("on", "send: one conversation", 1);
  const send64 = find("on", "send: one conversation", 64);
  const first = find("on", "history: first page", 1);
  const cursor = find("on", "history: cursor", 1);
  const deep = find("on", "history: page ", 1);
  const fanRow = final.find((r) => r.scenario.endsWith("ack → member"));
  const ms = (n: number | undefined) => (n === undefined ? "—" : `${n.toFixed(2)} ms`);
  const targets: Target[] = [
    { name: "send p50 at c=1 vs floor p50 at c=1", goal: "≤ 3×", value: send1?.ratio?.p50 != null ? `${send1.ratio.p50}× (${ms(send1.p50)} vs ${ms(find("on", FLOOR, 1)?.p50)})` : "—", met: send1?.ratio?.p50 != null ? send1.ratio.p50 <= 3 : null },
    { name: "one conversation at c=64, group commit on", goal: "≥ 1,000 msg/s", value: send64?.rps != null ? `${Math.round(send64.rps)} msg/s` : "—", met: send64?.rps != null ? send64.rps >= 1000 : null },
    { name: `fan-out p99 (ack → member, ${fanResult?.members ?? 0} members)`, goal: "< 25 ms", value: fanRow ? ms(fanRow.p99) : "—", met: fanRow ? fanRow.p99 < 25 : null },
    {
      name: "  stricter reading: fan-out p99 from the send (includes the D1 commit)",
      goal: "< 25 ms",
      value: fanResult ? ms(fanResult.sendToMember.p99) : "—",
      met: fanResult ? fanResult.sendToMember.p99 < 25 : null,
    },
    { name: "history: cursor at depth vs first page (p50, c=1)", goal: "≤ 1.5×", value: cursor && first ? `${round(cursor.p50 / first.p50)}× (${ms(cursor.p50)} vs ${ms(first.p50)})` : "—", met: cursor && first ? cursor.p50 <= 1.5 * first.p50 : null },
    { name: "history: page number at depth vs first page (p50, c=1)", goal: "≤ 1.5×", value: deep && first ? `${round(deep.p50 / first.p50)}× (${ms(deep.p50)} vs ${ms(first.p50)})` : "—", met: deep && first ? deep.p50 <= 1.5 * first.p50 : null },
  ];
  const wranglerVersion = (JSON.parse(readFileSync(join(root, "node_modules/wrangler/package.json"), "utf8")) as { version: string }).version;
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? "", memoryGiB: round(totalmem() / 2 ** 30, 1), node: process.version, os: `${process.platform} ${release()}`, wrangler: wranglerVersion, loadavgBefore: load0.map((n) => round(n)), loadavgAfter: loadavg().map((n) => round(n)) };
  const result = {
    date: startedAt.toISOString(),
    seconds: round((Date.now() - startedAt.getTime()) / 1000, 1),
    machine,
    settings,
    rows: final.map((r) => ({ ...r, p50: round(r.p50, 3), p99: round(r.p99, 3), rps: r.rps === null ? null : round(r.rps, 1) })),
    fanout: fanResult,
    verify,
    targets,
    notes,
  };
  const out = join(root, "bench/results");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "latest.json"), `${JSON.stringify(result, null, 2)}\n`);
  if (env.BENCH_SAVE_DATED) copyFileSync(join(out, "latest.json"), join(out, `${startedAt.toISOString().slice(0, 10)}.json`));

  console.log(`\nHey benchmarks, ${startedAt.toISOString()} — ${machine.cpus} × ${machine.cpu}, Node ${machine.node}, wrangler ${machine.wrangler}, ${result.seconds} s`);
  console.log(`each HTTP row: ${settings.duration} s at concurrency c after a ${settings.warmup} s warm-up; ratios against GET /healthz on the same server at the same c (WebSocket rows: c=1)\n`);
  console.log(table(final));
  console.log(`\n${targetLines(targets)}`);
  if (verify) console.log(`\nsends checked in D1 afterwards (every acknowledged send stored once, seqs 1..n): ${JSON.stringify(verify)}`);
  console.log(`load average before ${machine.loadavgBefore.join(" ")}, after ${machine.loadavgAfter.join(" ")}`);
  for (const n of notes) console.log(`note: ${n}`);
  console.log(`\nwritten: bench/results/latest.json`);
}

main().catch(async (error) => {
  console.error(error);
  await stop();
  process.exit(1);
});
