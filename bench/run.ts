// `npm run bench`: latency and throughput of Hey in two runtimes, on the same local D1 and Durable Object
// state on disk: a real `wrangler dev` (workerd behind wrangler's proxy worker and DevTools inspector), and
// production-like, the same Worker and bindings bundled by `wrangler deploy --dry-run` and served by one
// workerd through Miniflare (bench/lib/miniflare-server.ts). Starts its own servers on free loopback ports
// (or uses BENCH_URL), seeds through the API and SQL, runs every scenario in each runtime, stops what it
// started, checks the sends in D1, prints one table and writes bench/results/latest.json.
// Every figure is also a ratio against the floor: GET /healthz on the same runtime and server at the same
// concurrency. The production-like runtime also measures the room alone and counts D1 round trips per route.
// The `stream` scenario sends to members who all have a user stream open, beside the same sends with none online.
// The `search` scenario searches the history's messages for a common and a rare word, newest first and by rank,
// and reports the size on disk of the full-text index against the messages table's (bench/lib/search.ts).
// The `attachments` scenario times a 10 MiB file's upload and download, and samples workerd's resident memory
// while 8 uploads of 25 MiB stream in at once (bench/lib/attachments.ts).
// Message shards: the run is repeated on its own seeded state for each count in BENCH_SHARDS (default 1,4:
// servers binding exactly MESSAGES_0, or MESSAGES_0…3). The scenarios whose cost could depend on the
// shards (history and the chat list, sends spread over many conversations, the list across conversations,
// search) run for every count; the others only with the last count. Each server has its own floor. Every pass is
// seeded first; then each runtime runs every pass in turn, so its rows with each shard count are close in time.
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { snapshot, startDevServer, UNLIMITED } from "../scripts/dev-server";
import { HeyClient, type Session } from "../scripts/http-client";
import { attachmentScenario, type AttachmentResult } from "./lib/attachments";
import { fanout, type FanoutResult } from "./lib/fanout";
import { load, type HttpRequest, type LoadResult } from "./lib/load";
import { workerdCpuMs } from "./lib/cpu";
import { bundleWorker, startMiniflareServer, type Bundle } from "./lib/miniflare-server";
import { startProfiling } from "./lib/profile";
import { FLOOR, table, targetLines, withRatios, type Row, type Runtime, type Target } from "./lib/report";
import { pool, seedBulk, seedThroughApi, SHARD_SLOTS, type Bulk, type Fixture } from "./lib/seed";
import { COMMON_TERM, describeProbe, describeSize, indexProbe, indexSize, searchCases, type IndexSize, type Probe } from "./lib/search";
import { d1, d1Timed } from "./lib/sql";
import { round } from "./lib/stats";
import { streamRows, streams, type StreamResult } from "./lib/streams";

const env = process.env;
const list = (v: string | undefined, fallback: number[]) => (v ? v.split(",").map(Number).filter((n) => n > 0) : fallback);
const num = (v: string | undefined, fallback: number) => (v && Number.isFinite(Number(v)) ? Number(v) : fallback);

const settings = {
  /** Seconds each measured run lasts, and the warm-up before it at the same concurrency. */
  duration: num(env.BENCH_DURATION, 5),
  /** Seconds of each search row: a common word by rank takes seconds a request over 1,000,000 messages, so 5 would hold one or two. */
  searchDuration: num(env.BENCH_SEARCH_DURATION, 15),
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
  /** Messages in each conversation seeded for the chat list and the list across conversations (at most 999). */
  chatMessages: Math.min(999, num(env.BENCH_CHAT_MESSAGES, 10)),
  pageSize: 20,
  /** Message shards bound, one pass each on its own state (the last one runs every scenario, see above). */
  shards: list(env.BENCH_SHARDS, [1, 4]),
  /** Which scenarios to run (the floor always runs): me, history, across, search, send, stream, spread, attachments, fanout, room, d1, off. */
  scenarios: (env.BENCH_SCENARIOS ?? "me,history,across,search,send,stream,spread,attachments,fanout,room,d1,off").split(",").map((s) => s.trim()),
  /** Which runtimes, in this order: wrangler-dev, production-like. */
  runtimes: (env.BENCH_RUNTIMES ?? "wrangler-dev,production-like").split(",").map((s): Runtime => {
    const name = s.trim() === "wrangler-dev" ? "wrangler dev" : s.trim();
    if (name !== "wrangler dev" && name !== "production-like") throw new Error(`BENCH_RUNTIMES: unknown runtime ${s} (wrangler-dev, production-like)`);
    return name;
  }),
  /**
   * Attachments: the file whose upload and download are timed (MiB) and how many of each (after a warm-up of
   * each); uploads at once while workerd's memory is sampled, the size of each (MiB), and the sampling interval.
   */
  attachmentMiB: num(env.BENCH_ATTACHMENT_MIB, 10),
  attachmentRuns: num(env.BENCH_ATTACHMENT_RUNS, 5),
  attachmentUploads: num(env.BENCH_ATTACHMENT_UPLOADS, 8),
  attachmentUploadMiB: num(env.BENCH_ATTACHMENT_UPLOAD_MIB, 25),
  rssIntervalMs: 50,
  /** Sends the room alone keeps in flight. */
  roomInflight: 64,
  /** Requests whose D1 round trips are counted per route, after as many warm-ups. */
  d1Samples: 5,
};
const want = (name: string) => settings.scenarios.includes(name);
/** Scenarios run with every shard count; the others run with the last one only. */
const PER_SHARDS = ["history", "across", "search", "spread"];
// Search runs over the history seed, as the history's reader, who is in the seeded chats too (as in a full run).
if (!want("history") && !want("search")) settings.history = 0;
if (!want("history") && !want("across") && !want("search")) settings.chats = 0;
if (!want("fanout") && !want("stream")) settings.members = 0;
if (!want("spread")) settings.spread = 0;

// wrangler dev logs every request from its Node process; on 2 cores that costs more than the app's own
// work (healthz at c=16 served about 3× fewer requests with it). The app's logs (warnings, errors) remain.
process.env.WRANGLER_LOG ??= "warn";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** What run.ts needs of a server it started, whichever the runtime. */
type Server = { url: string; kill: (signal?: NodeJS.Signals) => Promise<void>; inspectorPort?: number };

let current: Server | null = null;
let bundle: Bundle | null = null;
/** The production-like runtime's Worker: wrangler.toml's, behind bench/lib/production-entry.js (the room-alone and D1-count hooks). */
async function bundled(): Promise<Bundle> {
  if (!bundle) {
    const t = Date.now();
    bundle = await bundleWorker({ root, entry: "bench/lib/production-entry.js" });
    log(`bundled with wrangler deploy --dry-run in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  return bundle;
}
/**
 * One pass of the run: its message shards, its state folder and a snapshot of the sources whose
 * wrangler.toml binds exactly those shards (the production-like runtime's bindings, and `wrangler d1
 * execute`'s), its fixture; `all` when every scenario runs in it (the last pass), not only PER_SHARDS.
 */
type Phase = { shards: number; all: boolean; persistTo: string; config: string; fixture?: Fixture; bulk?: Bulk; accepted: Accepted };

async function start(runtime: Runtime, vars: Record<string, string>, phase: Phase, inspect = false): Promise<Server> {
  const t = Date.now();
  const { persistTo, shards } = phase;
  if (runtime === "wrangler dev") current = await startDevServer({ vars, persistTo, shards });
  else current = await startMiniflareServer({ bundle: await bundled(), persistTo, root, vars, configPath: phase.config, inspect });
  log(`${runtime} up on ${current.url} in ${((Date.now() - t) / 1000).toFixed(1)} s, ${shards} message shard${shards === 1 ? "" : "s"} (${Object.entries(vars).filter(([k]) => !k.startsWith("RATE_")).map(([k, v]) => `${k}=${v}`).join(" ") || "default vars"})`);
  return current;
}
async function stop(): Promise<void> {
  const server = current;
  current = null;
  await server?.kill("SIGTERM");
}
/** The state folders of this run (one per pass), removed however the run ends (unless BENCH_KEEP_STATE). */
const stateDirs: string[] = [];
/** The passes' source snapshots (their wrangler.toml binds the pass's shards), removed however the run ends. */
const configDirs: string[] = [];
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping`);
    // Signals `wrangler dev`'s process group before its first await. A Miniflare instance has its own
    // handler, after this one, that stops its workerd and exits.
    void stop().finally(() => process.exit(130));
  });
}
process.on("exit", () => {
  bundle?.remove();
  for (const dir of configDirs) rmSync(dir, { recursive: true, force: true });
  if (!env.BENCH_KEEP_STATE) for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
});

const rows: Row[] = [];
/** The shards of the server being measured: every row gets it, and is held to that server's floor. */
let shardsNow: number | undefined;
const push = (...rs: Row[]) => rows.push(...rs.map((r) => ({ ...r, shards: shardsNow })));
const streamResults: Partial<Record<Runtime, StreamResult>> = {};
const attachmentResults: Partial<Record<Runtime, AttachmentResult>> = {};
/**
 * Per send target, warm-ups included: 2xx answers, and how many requests at most were still in flight
 * when a run stopped (autocannon does not wait for them; they may be stored without being counted).
 */
type Accepted = Map<string, { acknowledged: number; inFlightAtStop: number }>;
/** The pass being measured's (each pass has its own conversations and is checked on its own). */
let accepted: Accepted = new Map();
const count = (key: string | undefined, r: LoadResult) => {
  if (!key) return;
  const a = accepted.get(key) ?? { acknowledged: 0, inFlightAtStop: 0 };
  accepted.set(key, { acknowledged: a.acknowledged + r.ok, inFlightAtStop: a.inFlightAtStop + r.connections });
};

/**
 * One more request of a read, alone, awaited: autocannon stops without waiting for the requests in flight,
 * and a slow read's D1 queries still run after its client has gone. They queue on the same databases
 * before this one's, so once it is answered the server has finished them and the next run starts on an
 * idle server. For reads of hundreds of ms (search); a fast row leaves no such backlog.
 */
async function drain(url: string, request: () => HttpRequest) {
  const r = request();
  for (let attempt = 1; ; attempt++) {
    try {
      await (await fetch(`${url}${r.path}`, { method: r.method ?? "GET", headers: r.headers, body: r.body })).arrayBuffer();
      return;
    } catch (error) {
      // fetch's pool may hand out a kept-alive connection the server has just closed: try again on a new one.
      if (attempt === 3) throw error;
    }
  }
}

async function measure(url: string, runtime: Runtime, server: Row["server"], scenario: string, c: number, request: () => HttpRequest, options: { unit?: Row["unit"]; floorC?: number; count?: string; drain?: boolean; duration?: number } = {}): Promise<LoadResult> {
  if (settings.warmup > 0) {
    count(options.count, await load({ url, connections: c, durationSeconds: settings.warmup, request }));
    if (options.drain) await drain(url, request);
  }
  const cpu = cpuMeter();
  const r = await load({ url, connections: c, durationSeconds: options.duration ?? settings.duration, request });
  const cpuMs = cpu(r.ok);
  count(options.count, r);
  if (options.drain) await drain(url, request);
  const bad = Object.entries(r.statuses).filter(([s]) => !s.startsWith("2"));
  log(`${scenario} [${runtime}, ${server}${shardsNow === undefined ? "" : `, ${shardsNow} shard${shardsNow === 1 ? "" : "s"}`}] c=${c}: p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${Math.round(r.rps)}/s${cpuMs === undefined ? "" : `, workerd CPU ${cpuMs.toFixed(3)} ms each`}${bad.length || r.errors ? `, non-2xx ${JSON.stringify(Object.fromEntries(bad))}, errors ${r.errors}` : ""}`);
  push({ runtime, server, scenario, c, p50: r.p50, p99: r.p99, rps: r.rps, unit: options.unit ?? "req/s", ok: r.ok, failed: r.failed + r.errors, floorC: options.floorC ?? c, load: Math.round(loadavg()[0]! * 100) / 100, cpuMs });
  return r;
}

/** Starts counting workerd's CPU; the returned function gives the ms per one of `n` things done meanwhile. */
function cpuMeter(): (n: number) => number | undefined {
  const before = workerdCpuMs();
  return (n) => {
    const after = workerdCpuMs();
    return before === null || after === null || n === 0 ? undefined : (round((after - before) / n, 3) ?? undefined);
  };
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

async function floors(url: string, runtime: Runtime, server: Row["server"]) {
  for (const c of settings.concurrency) await measure(url, runtime, server, FLOOR, c, get("/healthz"));
}

async function sendScenarios(url: string, runtime: Runtime, server: Row["server"], f: Fixture, one: number) {
  for (const c of settings.concurrency) await measure(url, runtime, server, "send: one conversation", c, sends(f.senders, [one]), { unit: "msg/s", count: `one:${one}` });
}

/**
 * Every scenario of one runtime with group commit on (the server is running at `url`); in a pass that
 * does not run them all (`all`), only PER_SHARDS. `across`: the user of the list across conversations.
 */
async function scenarios(url: string, runtime: Runtime, fixture: Fixture, memberTokens: string[], external: boolean, all: boolean, across: Bulk["across"] = null): Promise<FanoutResult | null> {
  const runs = (name: string) => want(name) && (all || PER_SHARDS.includes(name));
  // Floor and an authenticated read.
  await floors(url, runtime, "on");
  if (runs("me")) for (const c of settings.concurrency) await measure(url, runtime, "on", "GET /api/users/me", c, get("/api/users/me/", fixture.senders[0]!.token));

  // History at depth and the chat list (read-only, on the seeded data).
  if (!external && runs("history")) {
    for (const [name, path] of historyPaths(fixture)) for (const c of settings.historyConcurrency) await measure(url, runtime, "on", name, c, get(path, fixture.reader.token));
  }
  // Messages of all of a user's conversations, newest first (every shard read at once, the parts merged).
  if (!external && runs("across") && across) {
    for (const c of settings.historyConcurrency) await measure(url, runtime, "on", acrossName(), c, get(acrossPath(), across.token));
  }
  // Full-text search over the history (and the reader's other conversations): a common and a rare word.
  if (!external && runs("search") && settings.history > 0) {
    for (const s of searchCases(settings.history, settings.pageSize)) for (const c of settings.historyConcurrency) await measure(url, runtime, "on", s.name, c, get(s.path, fixture.reader.token), { drain: true, duration: settings.searchDuration });
  }

  // Sends into one conversation and spread over many, group commit on.
  if (runs("send")) await sendScenarios(url, runtime, "on", fixture, fixture.one);
  // Right after the sends, so its rows sit beside them; it returns once the members are offline again.
  if (runs("stream")) await streamScenario(url, runtime, fixture, memberTokens);
  if (runs("spread")) for (const c of settings.concurrency) await measure(url, runtime, "on", `send: ${settings.spread} conversations`, c, sends(fixture.senders, fixture.spread), { unit: "msg/s", count: "spread" });
  if (runs("attachments")) await attachmentsScenario(url, runtime, fixture);

  // Fan-out over WebSockets.
  if (!runs("fanout")) return null;
  log(`fan-out [${runtime}]: ${memberTokens.length} members, ${settings.fanoutMessages} messages`);
  const fan = await fanout({ url, conversationId: fixture.fan, senderToken: fixture.senders[0]!.token, memberTokens, messages: settings.fanoutMessages, intervalMs: settings.fanoutIntervalMs, pingRounds: 20 });
  const fanName = `fan-out to ${fan.members} WebSockets`;
  push(
    { runtime, server: "on", scenario: `ws ping → pong (${fan.members} sockets)`, c: fan.members, p50: fan.ping.p50, p99: fan.ping.p99, rps: null, unit: "", floorC: 1 },
    { runtime, server: "on", scenario: `${fanName}: ack → member`, c: fan.members, p50: fan.ackToMember.p50, p99: fan.ackToMember.p99, rps: null, unit: "", floorC: 1 },
    { runtime, server: "on", scenario: `${fanName}: send → member`, c: fan.members, p50: fan.sendToMember.p50, p99: fan.sendToMember.p99, rps: null, unit: "", floorC: 1 },
    { runtime, server: "on", scenario: `${fanName}: send → ack`, c: 1, p50: fan.ack.p50, p99: fan.ack.p99, rps: null, unit: "", floorC: 1 },
  );
  log(`fan-out [${runtime}]: ack→member p50 ${fan.ackToMember.p50.toFixed(2)} p99 ${fan.ackToMember.p99.toFixed(2)} ms; send→member p50 ${fan.sendToMember.p50.toFixed(2)} p99 ${fan.sendToMember.p99.toFixed(2)} ms; missing ${fan.missing}; ${fan.framesPerMessage} frames, ${fan.bytesPerMessage} bytes received per message`);
  return fan;
}

async function streamScenario(url: string, runtime: Runtime, f: Fixture, memberTokens: string[]) {
  log(`user streams [${runtime}]: ${memberTokens.length} members, ${settings.fanoutMessages} messages with none online, then as many with all online`);
  const s = await streams({ url, conversationId: f.fan, senderToken: f.senders[0]!.token, memberTokens, messages: settings.fanoutMessages, intervalMs: settings.fanoutIntervalMs });
  streamResults[runtime] = s;
  push(...streamRows(runtime, s));
  const pair = (l: { p50: number; p99: number }) => `p50 ${l.p50.toFixed(2)} p99 ${l.p99.toFixed(2)} ms`;
  log(`user streams [${runtime}]: send → 201 ${pair(s.sendAlone)} with none online, ${pair(s.send)} with all; send → member ${pair(s.sendToMember)}; slowest member ${pair(s.sendToSlowest)}; missing ${s.missing}; connected in ${s.connectSeconds.toFixed(1)} s`);
}

async function attachmentsScenario(url: string, runtime: Runtime, f: Fixture) {
  const MiB = 2 ** 20;
  log(`attachments [${runtime}]: ${settings.attachmentRuns} uploads and downloads of ${settings.attachmentMiB} MiB, then ${settings.attachmentUploads} uploads of ${settings.attachmentUploadMiB} MiB at once`);
  const a = await attachmentScenario(
    {
      url,
      conversationId: f.one,
      tokens: f.senders.map((s) => s.token),
      fileBytes: settings.attachmentMiB * MiB,
      runs: settings.attachmentRuns,
      concurrent: settings.attachmentUploads,
      concurrentBytes: settings.attachmentUploadMiB * MiB,
      sampleIntervalMs: settings.rssIntervalMs,
    },
    (m) => log(m.replace(/^attachments:/, `attachments [${runtime}]:`)),
  );
  attachmentResults[runtime] = a;
  const load1 = Math.round(loadavg()[0]! * 100) / 100;
  // Throughput in MB/s (10⁶ bytes); p50 and p99 are the transfers' median and slowest times. No floor: not comparable with a no-op.
  const row = (scenario: string, c: number, t: { medianMs: number; maxMs: number; mbPerSecond: number; ok: number }): Row => ({ runtime, server: "on", scenario, c, p50: t.medianMs, p99: t.maxMs, rps: t.mbPerSecond, unit: "MB/s", ok: t.ok, failed: c === 1 ? 0 : c - t.ok, floorC: 0, load: load1 });
  push(
    row(`attachment upload: ${settings.attachmentMiB} MiB`, 1, { ...a.upload, mbPerSecond: a.upload.medianMbPerSecond, ok: a.upload.runs }),
    row(`attachment download: ${settings.attachmentMiB} MiB`, 1, { ...a.download, mbPerSecond: a.download.medianMbPerSecond, ok: a.download.runs }),
  );
  const m = a.memory;
  if (m) push(row(`attachment upload: ${settings.attachmentUploads} × ${settings.attachmentUploadMiB} MiB at once`, m.uploads, { medianMs: m.uploadMs.p50, maxMs: m.uploadMs.max, mbPerSecond: m.mbPerSecond, ok: m.statuses["201"] ?? 0 }));
}

const acrossName = () => `GET /api/messages/ (${settings.chats.toLocaleString("en")} conversations, ${(settings.chats * settings.chatMessages).toLocaleString("en")} messages)`;
const acrossPath = () => `/api/messages/?page=1&page_size=${settings.pageSize}`;

function historyPaths(f: Fixture): [string, string][] {
  const h = f.history;
  const depth = Math.floor(settings.history / 2);
  const page = Math.floor(depth / settings.pageSize) + 1;
  return [
    ["history: first page", `/api/conversations/${h}/messages/?page=1&page_size=${settings.pageSize}`],
    [`history: cursor at ${depth.toLocaleString("en")}`, `/api/conversations/${h}/messages/?after_seq=${depth}&limit=${settings.pageSize}`],
    [`history: page ${page.toLocaleString("en")}`, `/api/conversations/${h}/messages/?page=${page}&page_size=${settings.pageSize}`],
    [`GET /api/chats/ (${settings.chats.toLocaleString("en")} conversations)`, "/api/chats/"],
  ];
}

type RoomResult = { inflight: number; keys: boolean; sent: number; ok: number; failed: number; errors: Record<string, number>; seconds: number; perSecond: number; p50: number | null; p99: number | null };

/**
 * The room alone (production-like entry only): ConversationRoom's send RPC from the Worker with
 * `roomInflight` sends in flight, each with its own idempotency key, for the warm-up and then the run.
 */
async function roomAlone(url: string, runtime: Runtime, f: Fixture): Promise<RoomResult> {
  const once = async (seconds: number) => {
    const res = await fetch(`${url}/__bench/room?conversation=${f.room}&seconds=${seconds}&inflight=${settings.roomInflight}&keys=1`, { headers: { Authorization: `Bearer ${f.senders[0]!.token}` } });
    const body = (await res.json()) as RoomResult & { error?: string };
    if (res.status !== 200) throw new Error(`room alone: ${res.status} ${JSON.stringify(body)}`);
    const a = accepted.get("room") ?? { acknowledged: 0, inFlightAtStop: 0 };
    // A failed send's outcome is unknown: it may be stored.
    accepted.set("room", { acknowledged: a.acknowledged + body.ok, inFlightAtStop: a.inFlightAtStop + body.failed });
    return body;
  };
  if (settings.warmup > 0) await once(settings.warmup);
  const cpu = cpuMeter();
  const r = await once(settings.duration);
  const cpuMs = cpu(r.ok);
  log(`room alone [${runtime}]: ${Math.round(r.perSecond)} msg/s with ${r.inflight} in flight, p50 ${r.p50} ms, p99 ${r.p99} ms${cpuMs === undefined ? "" : `, workerd CPU ${cpuMs.toFixed(3)} ms a message`}${r.failed ? `, failed ${JSON.stringify(r.errors)}` : ""}`);
  rows.push({ runtime, server: "on", scenario: "room alone: send RPC with keys", c: r.inflight, p50: r.p50 ?? NaN, p99: r.p99 ?? NaN, rps: r.perSecond, unit: "msg/s", ok: r.ok, failed: r.failed, floorC: 0, cpuMs });
  return r;
}

type D1Count = { calls: number; sequential: number; shared: boolean };
type D1Route = { route: string; status: number; calls: number; sequential: number; samples: D1Count[] };

/**
 * D1 round trips per request (production-like entry only): each route once at a time with nothing else in
 * flight, after as many warm-ups; the most seen in any sample. A send is counted with its room's flush.
 */
async function d1RoundTrips(url: string, f: Fixture, across: Bulk["across"] = null): Promise<D1Route[]> {
  const tag = randomBytes(3).toString("hex");
  let n = 0;
  const sender = f.senders[0]!;
  const routes: [string, () => HttpRequest][] = [
    ["REST send (with client_message_id)", () => ({ method: "POST", path: `/api/conversations/${f.room}/messages/`, headers: { Authorization: `Bearer ${sender.token}`, "Content-Type": "application/json" }, body: JSON.stringify({ message_body: `counted ${n}`, client_message_id: `d1-${tag}-${n++}` }) })],
    ["history: first page", () => get(`/api/conversations/${f.history}/messages/?page=1&page_size=${settings.pageSize}`, f.reader.token)()],
    ["GET /api/chats/", () => get("/api/chats/", f.reader.token)()],
    ["GET /api/users/me", () => get("/api/users/me/", sender.token)()],
    ...(across ? [[`GET /api/messages/ (${settings.chats.toLocaleString("en")} conversations)`, () => get(acrossPath(), across.token)()] as [string, () => HttpRequest]] : []),
  ];
  const out: D1Route[] = [];
  for (const [route, request] of routes) {
    const samples: D1Count[] = [];
    let status = 0;
    for (let i = 0; i < 2 * settings.d1Samples; i++) {
      const r = request();
      const res = await fetch(`${url}${r.path}`, { method: r.method ?? "GET", headers: { ...r.headers, "x-bench-count-d1": String(f.room) }, body: r.body });
      await res.arrayBuffer();
      status = res.status;
      if (r.method === "POST" && res.status === 201) {
        const a = accepted.get("room") ?? { acknowledged: 0, inFlightAtStop: 0 };
        accepted.set("room", { ...a, acknowledged: a.acknowledged + 1 });
      }
      if (res.status < 200 || res.status >= 300) throw new Error(`counting D1 calls of ${route}: ${res.status}`);
      const count = JSON.parse(res.headers.get("x-bench-d1") ?? "null") as D1Count | null;
      if (!count) throw new Error(`counting D1 calls of ${route}: no x-bench-d1 header (is the production-like entry serving?)`);
      if (!count.shared) throw new Error("counting D1 calls: the room runs in another isolate, its calls would be missed");
      if (i >= settings.d1Samples) samples.push(count);
    }
    const calls = Math.max(...samples.map((s) => s.calls));
    const sequential = Math.max(...samples.map((s) => s.sequential));
    out.push({ route, status, calls, sequential, samples });
    log(`D1 round trips, ${route}: ${sequential} in sequence, ${calls} calls`);
  }
  return out;
}

async function main() {
  const startedAt = new Date();
  const load0 = loadavg();
  if (load0[0]! > cpus().length) log(`warning: load average ${load0[0]!.toFixed(1)} on ${cpus().length} CPUs: something else is busy, figures will be noisy`);
  const external = env.BENCH_URL?.replace(/\/$/, "");
  const fanouts: Partial<Record<Runtime, FanoutResult>> = {};
  let room: RoomResult | null = null;
  let d1Routes: D1Route[] | null = null;
  const notes: string[] = [];
  const verify: Record<string, Record<string, unknown>> = {};
  /** Messages seeded in each shard, by shard count. */
  const seededShards: Record<string, number[]> = {};
  /** The full-text index's size against the messages table's on the history's shard, by shard count. */
  const searchIndex: Record<string, IndexSize> = {};
  /** The index's page queries alone, timed by D1, by shard count. */
  const searchProbes: Record<string, Probe[]> = {};
  /** How long each pass's SQL seed took, by shard count. */
  const seedSeconds: Record<string, number> = {};
  let phase: Phase | null = null;

  /**
   * Every acknowledged send of this pass is stored once, in a gap-free order, in its conversation's shard,
   * and the conversation's row carries its last message (the chat list's copy): checked in D1 with every
   * server stopped.
   */
  const check = async (after: Runtime, p: Phase) => {
    const f = p.fixture;
    if (!f) return;
    const targets = [f.one, f.oneNoGroupCommit, f.room, ...f.spread];
    const [placed, presence] = await d1(
      p.persistTo,
      `SELECT id, shard, last_seq, last_message_id FROM conversations WHERE id IN (${targets.join(",")});
       SELECT count(*) AS n FROM presence WHERE online = 1;`,
      { config: p.config },
    );
    const conversations = (placed ?? []).map((r) => ({ id: Number(r.id), shard: Number(r.shard), lastSeq: Number(r.last_seq), lastMessageId: r.last_message_id === null ? null : Number(r.last_message_id) }));
    type Stored = { n: number; distinct_seqs: number; lo: number; hi: number; last_id: number };
    const by = new Map<number, Stored>();
    for (const shard of new Set(conversations.map((c) => c.shard))) {
      const ids = conversations.filter((c) => c.shard === shard).map((c) => c.id);
      const [stored] = await d1(
        p.persistTo,
        `SELECT conversation_id AS id, count(*) AS n, count(DISTINCT seq) AS distinct_seqs, min(seq) AS lo, max(seq) AS hi,
           (SELECT m.id * ${SHARD_SLOTS} + ${shard} FROM messages m WHERE m.conversation_id = messages.conversation_id ORDER BY m.seq DESC LIMIT 1) AS last_id
         FROM messages WHERE conversation_id IN (${ids.join(",")}) GROUP BY conversation_id;`,
        { binding: `MESSAGES_${shard}`, config: p.config },
      );
      for (const r of stored ?? []) by.set(Number(r.id), r as Stored);
    }
    const gapFree = [...by.values()].every((r) => r.n === r.distinct_seqs && r.lo === 1 && r.hi === r.n);
    // The copy on the conversation's row is its newest stored message (none stored: none copied). A copy
    // may be behind when the server was stopped between a flush and its main-database write (sends still in
    // flight when a run ended): the room rebuilds it from the shard when it next loads. Any other difference is wrong.
    const summary = (c: (typeof conversations)[number]) => {
      const s = by.get(c.id);
      if (s ? c.lastSeq === s.hi && c.lastMessageId === s.last_id : c.lastSeq === 0 && c.lastMessageId === null) return "current";
      return s && c.lastSeq < s.hi ? "behind" : "wrong";
    };
    const states = conversations.map(summary);
    const summaries = { current: states.filter((x) => x === "current").length, behind: states.filter((x) => x === "behind").length, wrong: states.filter((x) => x === "wrong").length };
    const one = (key: string, stored: number) => {
      const a = accepted.get(key) ?? { acknowledged: 0, inFlightAtStop: 0 };
      // Every acknowledged send is stored; beyond those, at most the ones in flight when a run stopped.
      return { ...a, stored, ok: stored >= a.acknowledged && stored <= a.acknowledged + a.inFlightAtStop };
    };
    const results = {
      one: one(`one:${f.one}`, by.get(f.one)?.n ?? 0),
      oneNoGroupCommit: one(`one:${f.oneNoGroupCommit}`, by.get(f.oneNoGroupCommit)?.n ?? 0),
      spread: one("spread", sum(f.spread.map((id) => by.get(id)?.n ?? 0))),
      room: one("room", by.get(f.room)?.n ?? 0),
    };
    // Stream members left online would make the next runtime's sends publish to their hubs.
    const nobodyOnline = presence?.[0]?.n === 0;
    const key = `${after}, ${p.shards} shard${p.shards === 1 ? "" : "s"}`;
    verify[key] = { gapFree, summaries, nobodyOnline, ...results, ok: gapFree && summaries.wrong === 0 && nobodyOnline && Object.values(results).every((r) => r.ok) };
    log(`verified in D1 after ${key} (every send so far): ${JSON.stringify(verify[key])}`);
  };

  /** The seeded state as a server sees it: the history's count, a chat's last message by its id, the list across conversations. */
  const seen = async (runtime: Runtime, url: string, p: Phase) => {
    const f = p.fixture!;
    const api = new HeyClient(url);
    const fail = (what: string, res: { status: number; body: unknown }) => {
      throw new Error(`${runtime} (${p.shards} shards) does not see the seeded state: ${what}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    };
    const history = await api.json(`/api/conversations/${f.history}/messages/?page=1&page_size=1`, { token: f.reader.token });
    if (history.status !== 200 || history.body.count !== settings.history) fail("history", history);
    // The searches measured: the rare word matches one message (and as a prefix, no other), the common one pages on.
    if (want("search") && settings.history > 0) {
      for (const s of searchCases(settings.history, settings.pageSize)) {
        const res = await api.json(s.path, { token: f.reader.token });
        const results = (res.body?.results ?? []) as { message: { message_body: string; conversation: number } }[];
        const bodies = results.map((r) => r.message.message_body);
        const ok =
          res.status === 200 &&
          (s.term === COMMON_TERM
            ? results.length === settings.pageSize && typeof res.body.next === "string" && results.every((r) => r.message.conversation === f.history)
            : results.length === 1 && res.body.next === null && bodies[0] === `history message ${s.term}: the quick brown fox jumps over the lazy dog`);
        if (!ok) fail(s.name, res);
      }
    }
    if (settings.chats > 0) {
      const chats = await api.json("/api/chats/?page=1&page_size=1", { token: f.reader.token });
      const last = chats.body?.results?.[0]?.last_message;
      if (chats.status !== 200 || chats.body.count !== settings.chats || !last) fail("chat list", chats);
      const message = await api.json(`/api/messages/${last.id}/`, { token: f.reader.token });
      if (message.status !== 200 || message.body.message_body !== last.message_body || message.body.seq !== last.seq) fail(`the chat list's last message ${last.id}`, message);
      const across = p.bulk?.across;
      if (across) {
        const list = await api.json("/api/messages/?page=1&page_size=1", { token: across.token });
        if (list.status !== 200 || list.body.count !== settings.chats * settings.chatMessages) fail("the list across conversations", list);
      }
    }
  };

  try {
    if (external) {
      // 1. Seed through the API only: a server we did not start has no state folder to seed through SQL.
      const url = external;
      const api = new HeyClient(url);
      // Only a label: which runtime's targets the figures are held to. production-like also asks the
      // server for the room-alone row and the D1 counts, which need bench/lib/production-entry.js as its entry.
      const runtime: Runtime = env.BENCH_URL_RUNTIME === "production-like" ? "production-like" : "wrangler dev";
      log(`using BENCH_URL=${url} (reported as runtime "${runtime}"); its abuse limits must be raised (see README), SQL-seeded scenarios are skipped`);
      const fixture = await seedThroughApi(api, settings);
      log(`signing up ${settings.members} fan-out members through the API`);
      const members = await pool(Array.from({ length: settings.members }), 3, () => api.signUpAndLogin(fixture.clientId));
      const memberTokens = members.map((m) => m.token);
      const owner = fixture.senders[0]!;
      // Members join through the API: only the owner may add them.
      const added = await pool(members, 4, (m) => api.json(`/api/conversations/${fixture.fan}/participants/`, { method: "POST", token: owner.token, body: { user_id: m.userId } }));
      if (added.some((r) => r.status !== 201)) throw new Error(`adding members: ${JSON.stringify(added.find((r) => r.status !== 201)?.body)}`);
      const fan = await scenarios(url, runtime, fixture, memberTokens, true, true);
      if (fan) fanouts[runtime] = fan;
      if (want("history") || want("across") || want("search")) notes.push("History, chat-list, across-conversations and search scenarios need the SQL seed: skipped with BENCH_URL.");
      if (runtime === "production-like") {
        if (want("d1")) d1Routes = await d1RoundTrips(url, fixture);
        if (want("room")) room = await roomAlone(url, runtime, fixture);
      } else if (want("room") || want("d1")) notes.push("The room-alone row and the D1 round-trip counts need the production-like entry (BENCH_URL_RUNTIME=production-like): skipped.");
      const offUrl = env.BENCH_URL_NO_GROUP_COMMIT?.replace(/\/$/, "");
      if (want("off") && offUrl) {
        await floors(offUrl, runtime, "off");
        await sendScenarios(offUrl, runtime, "off", fixture, fixture.oneNoGroupCommit);
      } else if (want("off")) notes.push("Group commit off needs BENCH_URL_NO_GROUP_COMMIT (a server with --var GROUP_COMMIT_MAX_BATCH:1) with BENCH_URL: skipped.");
    } else {
      // Built first, from the same sources as the first `wrangler dev` (which copies them when it starts).
      if (settings.runtimes.includes("production-like")) await bundled();
      // 1. Each pass's state: seeded through the API (real sign-ups and the OAuth flow) on the first runtime,
      //    then the bulk through SQL while it is stopped. Every runtime then runs on the pass's state folder.
      const phases: Phase[] = [];
      for (const [index, shards] of settings.shards.entries()) {
        const all = index === settings.shards.length - 1;
        const persistTo = mkdtempSync(join(tmpdir(), "hey-bench-"));
        stateDirs.push(persistTo);
        const configDir = snapshot({ shards, from: root });
        configDirs.push(configDir);
        const p: Phase = (phase = { shards, all, persistTo, config: join(configDir, "wrangler.toml"), accepted: new Map() });
        phases.push(p);
        shardsNow = shards;
        log(`seeding the pass with ${shards} message shard${shards === 1 ? "" : "s"}${all ? " (every scenario)" : ` (${PER_SHARDS.filter(want).join(", ") || "floor only"})`}`);
        await start(settings.runtimes[0]!, UNLIMITED, p);
        let t = Date.now();
        const fixture = (p.fixture = await seedThroughApi(new HeyClient(current!.url), settings));
        log(`seeded through the API in ${((Date.now() - t) / 1000).toFixed(1)} s: ${settings.senders + 1} users (sign-up + OAuth), ${settings.spread + 5} conversations`);
        await stop();
        const members = all && (want("fanout") || want("stream")) ? settings.members : 0;
        t = Date.now();
        const bulk = (p.bulk = await seedBulk((binding, sql) => d1(persistTo, sql, { binding, config: p.config }), fixture, { ...settings, members, shards }));
        seededShards[String(shards)] = bulk.messagesPerShard;
        seedSeconds[String(shards)] = Math.round((Date.now() - t) / 100) / 10;
        log(
          `seeded through SQL in ${((Date.now() - t) / 1000).toFixed(1)} s: ${members} fan-out members with tokens, ${settings.history.toLocaleString("en")} history messages, ` +
            `${settings.chats} more conversations of ${settings.chatMessages} messages (the reader in ${Math.max(0, settings.chats - 1)}, the across user in all); messages per shard ${bulk.messagesPerShard.join(", ")}`,
        );
        // The index's size, on the freshly seeded shard (every server stopped).
        if (want("search") && settings.history > 0) {
          t = Date.now();
          const size = (searchIndex[String(shards)] = await indexSize((binding, sql) => d1(persistTo, sql, { binding, config: p.config }), persistTo, bulk.historyShard, fixture.history));
          log(`search index measured in ${((Date.now() - t) / 1000).toFixed(1)} s: ${describeSize(size)}`);
          const probes = (searchProbes[String(shards)] = await indexProbe((binding, sql) => d1Timed(persistTo, sql, { binding, config: p.config }), bulk.historyShard, settings.history, settings.pageSize));
          log(`search index queries alone (D1 time, best of ${probes[0]?.ms.length}): ${describeProbe(probes)}`);
        }
      }

      // Runtime by runtime, every pass in turn: a runtime's rows with each shard count are measured close together.
      const settle = () => new Promise((resolve) => setTimeout(resolve, 3000));
      for (const runtime of settings.runtimes) {
        for (const p of phases) {
          const { fixture, bulk, all } = p as Required<Phase>;
          phase = p;
          shardsNow = p.shards;
          accepted = p.accepted;
          const memberTokens = bulk.members.map((m) => m.token);
          // 2. Every scenario with group commit on.
          const profiling = Boolean(env.BENCH_PROFILE) && runtime === "production-like" && all;
          const server = await start(runtime, UNLIMITED, p, profiling);
          await seen(runtime, server.url, p);
          const profiled = server.inspectorPort ? await startProfiling(server.inspectorPort, join(root, "bench", "profiles"), "core:user:hey") : null;
          const fan = await scenarios(server.url, runtime, fixture, memberTokens, false, all, bulk.across);
          if (fan) fanouts[runtime] = fan;
          // 3. What only the production-like entry can measure.
          if (runtime === "production-like" && all) {
            if (want("d1")) d1Routes = await d1RoundTrips(server.url, fixture, bulk.across);
            if (want("room")) room = await roomAlone(server.url, runtime, fixture);
          }
          if (profiled) log(await profiled());
          // Sends still in flight when the last run stopped finish (and record their summaries) before the server does.
          await settle();
          await stop();

          // 4. Group commit off: the same runtime on the same data with GROUP_COMMIT_MAX_BATCH=1.
          if (want("off") && all) {
            const off = await start(runtime, { ...UNLIMITED, GROUP_COMMIT_MAX_BATCH: "1" }, p);
            await floors(off.url, runtime, "off");
            await sendScenarios(off.url, runtime, "off", fixture, fixture.oneNoGroupCommit);
            await settle();
            await stop();
          }

          // 5. Every acknowledged send of the pass so far is stored once, gap-free, and summarized on its conversation.
          await check(runtime, p);
        }
      }
      for (const p of phases) {
        if (!env.BENCH_KEEP_STATE) rmSync(p.persistTo, { recursive: true, force: true });
        else log(`state of the ${p.shards}-shard pass kept in ${p.persistTo}`);
      }
      for (const dir of configDirs) rmSync(dir, { recursive: true, force: true });
      if (!settings.runtimes.includes("production-like") && (want("room") || want("d1"))) notes.push("The room-alone row and the D1 round-trip counts run in the production-like runtime only: skipped.");
      if (settings.shards.length > 1) {
        notes.push(
          `Message shards: each count in BENCH_SHARDS (${settings.shards.join(", ")}) is a pass on its own freshly seeded state, its servers binding exactly that many shards (MESSAGES_0…); ` +
            `${PER_SHARDS.join(", ")} run in every pass, the other scenarios only in the last (${settings.shards.at(-1)} shards). Every row is held to the floor of its own server.`,
        );
        notes.push(
          "Locally every D1 database (the main one and every shard) is a SQLite file served by the same workerd process on this machine's CPUs, so more shards are not expected to be faster here: " +
            "the 1- vs 4-shard rows are there to show whether the cost of a request grows with the shards. A history read or a send touches one shard whatever their number, the chat list none; " +
            "the list across conversations (GET /api/messages/) reads every shard holding the user's conversations, at once, and merges: one D1 batch per shard.",
        );
      }
    }
  } finally {
    await stop();
    bundle?.remove();
    if (phase && env.BENCH_KEEP_STATE) log(`state kept in ${stateDirs.join(", ")}`);
  }

  // The report.
  const final = withRatios(rows);
  // The targets read the pass that runs every scenario (the last shard count).
  const mainShards = external ? undefined : settings.shards.at(-1);
  const find = (runtime: Runtime, scenario: string, c: number, server: Row["server"] = "on", shards = mainShards) =>
    final.find((r) => r.runtime === runtime && r.server === server && r.shards === shards && r.scenario.startsWith(scenario) && r.c === c);
  const ms = (n: number | null | undefined) => (n == null ? "—" : `${n.toFixed(2)} ms`);
  const kb = 1024;
  /** A p50 against the floor's p50 at c=1 on one runtime. */
  const vsFloor = (name: string, runtime: Runtime, scenario: string, most: number): Target => {
    const r = find(runtime, scenario, 1);
    const floor = find(runtime, FLOOR, 1);
    const x = r?.ratio?.p50;
    return { name, goal: `≤ ${most}×`, value: x != null ? `${x}× (${ms(r!.p50)} vs ${ms(floor?.p50)})` : "—", met: x != null ? x <= most : null };
  };
  const targets: Target[] = [
    vsFloor("REST send p50 / floor p50, c=1, wrangler dev", "wrangler dev", "send: one conversation", 4),
    vsFloor("REST send p50 / floor p50, c=1, production-like", "production-like", "send: one conversation", 6),
    vsFloor("history page 1 p50 / floor p50, c=1, production-like", "production-like", "history: first page", 8),
    {
      name: `room alone: send RPC, ${settings.roomInflight} in flight, with keys (production-like)`,
      goal: "≥ 5,000 msg/s",
      value: room ? `${Math.round(room.perSecond).toLocaleString("en")} msg/s` : "—",
      met: room ? room.perSecond >= 5000 : null,
    },
    ...(Object.entries(fanouts) as [Runtime, FanoutResult][]).flatMap(([runtime, fan]): Target[] => [
      {
        name: `bytes received per message per member (fan-out to ${fan.members}), ${runtime}`,
        goal: "≤ 1 KB (1,024 B)",
        value: `${Math.round(fan.bytesPerMessage / Math.max(1, fan.members)).toLocaleString("en")} B (${fan.bytesPerMessage.toLocaleString("en")} B, ${fan.framesPerMessage} frames per message)`,
        met: fan.members > 0 ? fan.bytesPerMessage / fan.members <= kb : null,
      },
      {
        name: `send → member p99 vs ws ping → pong p99 (${fan.members} sockets), ${runtime}`,
        goal: "≤ the ping p99 of the same run",
        value: `${ms(fan.sendToMember.p99)} vs ${ms(fan.ping.p99)}`,
        met: Number.isFinite(fan.sendToMember.p99) && Number.isFinite(fan.ping.p99) ? fan.sendToMember.p99 <= fan.ping.p99 : null,
      },
    ]),
    ...(Object.entries(attachmentResults) as [Runtime, AttachmentResult][]).flatMap(([runtime, a]): Target[] => {
      const m = a.memory;
      const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
      return [
        {
          name: `workerd peak RSS − baseline during ${settings.attachmentUploads} uploads of ${settings.attachmentUploadMiB} MiB at once, ${runtime}`,
          goal: `≤ ${settings.attachmentUploadMiB} MiB (one body; buffered whole they would add ${settings.attachmentUploads * settings.attachmentUploadMiB} MiB)`,
          value: m ? `${mib(m.addedKiB)} (${mib(m.baselineKiB)} → ${mib(m.peakKiB)}, ${m.processes.length} workerd process${m.processes.length === 1 ? "" : "es"})` : `— (${a.memorySkipped})`,
          met: m ? m.addedKiB <= settings.attachmentUploadMiB * 1024 : null,
        },
        { name: `attachments: every download's SHA-256 is its upload's, ${runtime}`, goal: "all", value: a.ok ? "all" : "NOT ALL", met: a.ok },
      ];
    }),
    (() => {
      const t = vsFloor("GET /api/chats/ p50 / floor p50, c=1, wrangler dev", "wrangler dev", "GET /api/chats/", 4);
      const other = find("production-like", "GET /api/chats/", 1)?.ratio?.p50;
      return other != null ? { ...t, value: `${t.value}; production-like ${other}×` } : t;
    })(),
    vsFloor("history page 1 p50 / floor p50, c=1, wrangler dev", "wrangler dev", "history: first page", 3.5),
    (() => {
      const most = 2;
      const seq = d1Routes?.slice(0, 4).map((r) => r.sequential);
      return {
        name: "sequential D1 round trips: send / history page 1 / chats / users/me (production-like)",
        goal: `≤ ${[most, most, most, most].join("/")}`,
        value: seq ? seq.join("/") : "—",
        met: seq ? seq.every((n) => n <= most) : null,
      };
    })(),
  ];
  const wranglerVersion = (JSON.parse(readFileSync(join(root, "node_modules/wrangler/package.json"), "utf8")) as { version: string }).version;
  const miniflareVersion = (JSON.parse(readFileSync(join(root, "node_modules/miniflare/package.json"), "utf8")) as { version: string }).version;
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? "", memoryGiB: round(totalmem() / 2 ** 30, 1), node: process.version, os: `${process.platform} ${release()}`, wrangler: wranglerVersion, miniflare: miniflareVersion, loadavgBefore: load0.map((n) => round(n)), loadavgAfter: loadavg().map((n) => round(n)) };
  const verified = Object.values(verify);
  // The same row with the first and the last shard count, side by side (each against its own server's floor).
  const [fewest, most] = [settings.shards[0], settings.shards.at(-1)];
  const shardComparison =
    !external && settings.shards.length > 1
      ? final
          .filter((r) => r.shards === fewest && r.scenario !== FLOOR)
          .flatMap((a) => {
            const b = find(a.runtime, a.scenario, a.c, a.server, most);
            if (!b || b.scenario !== a.scenario) return [];
            const x = (m: number | null | undefined, n: number | null | undefined) => (m == null || n == null || n === 0 ? null : round(m / n, 3));
            return [{ runtime: a.runtime, scenario: a.scenario, c: a.c, shards: [fewest, most], p50: [round(a.p50, 3), round(b.p50, 3)], p99: [round(a.p99, 3), round(b.p99, 3)], rps: [a.rps === null ? null : round(a.rps, 1), b.rps === null ? null : round(b.rps, 1)], p50VsFloor: [a.ratio?.p50 ?? null, b.ratio?.p50 ?? null], p99VsFloor: [a.ratio?.p99 ?? null, b.ratio?.p99 ?? null], rpsVsFloor: [a.ratio?.rps ?? null, b.ratio?.rps ?? null], p50Change: x(b.p50, a.p50), p99Change: x(b.p99, a.p99), rpsChange: x(b.rps, a.rps) }];
          })
      : null;
  if (Object.keys(attachmentResults).length) {
    notes.push(
      `Attachments: MB/s counts 10⁶ bytes a second; the upload and download rows are the median and slowest of ${settings.attachmentRuns} sequential transfers of one ${settings.attachmentMiB} MiB random file after one warm-up, each on a new connection. ` +
        `Memory is VmRSS from /proc of every workerd process this benchmark started for the runtime (wrangler dev: its proxy's and the Worker's; production-like: one), summed, sampled every ${settings.rssIntervalMs} ms from a worker thread; ` +
        `the baseline is the median over the idle second before the ${settings.attachmentUploads} concurrent uploads, the peak the highest sample during them.`,
    );
    for (const [runtime, a] of Object.entries(attachmentResults)) if (a.memorySkipped) notes.push(`Attachments, ${runtime}: memory not measured (${a.memorySkipped}).`);
  }
  const result = {
    date: startedAt.toISOString(),
    seconds: round((Date.now() - startedAt.getTime()) / 1000, 1),
    machine,
    settings,
    rows: final.map((r) => ({ ...r, p50: round(r.p50, 3), p99: round(r.p99, 3), rps: r.rps === null ? null : round(r.rps, 1) })),
    fanout: fanouts,
    streams: streamResults,
    attachments: attachmentResults,
    room,
    d1RoundTrips: d1Routes,
    /** Messages seeded into each shard (by shard index), per shard count. */
    seededMessagesPerShard: external ? null : seededShards,
    /** Seconds each pass's SQL seed took (wrangler d1 execute; the history's INSERT also fills the full-text index through its trigger), by shard count. */
    seedSeconds: external ? null : seedSeconds,
    /** The full-text index (messages_fts) against the messages table on the shard holding the history, right after seeding, by shard count. */
    searchIndex: Object.keys(searchIndex).length ? searchIndex : null,
    /** The page queries of src/search/matches.ts on messages_fts alone (no join, no Worker), as D1 timed them, right after seeding, by shard count. */
    searchProbes: Object.keys(searchProbes).length ? searchProbes : null,
    shardComparison,
    verify: verified.length ? verify : null,
    targets,
    notes,
  };
  const out = join(root, "bench/results");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "latest.json"), `${JSON.stringify(result, null, 2)}\n`);
  if (env.BENCH_SAVE_DATED) copyFileSync(join(out, "latest.json"), join(out, `${startedAt.toISOString().slice(0, 10)}.json`));

  console.log(`\nHey benchmarks, ${startedAt.toISOString()} — ${machine.cpus} × ${machine.cpu}, Node ${machine.node}, wrangler ${machine.wrangler}, miniflare ${machine.miniflare}, ${result.seconds} s`);
  console.log(`each HTTP row: ${settings.duration} s at concurrency c after a ${settings.warmup} s warm-up; ratios against GET /healthz on the same runtime and server at the same c (WebSocket rows: c=1)\n`);
  console.log(table(final));
  if (d1Routes) {
    console.log(`\n| D1 round trips per request (production-like, counted around every D1 binding, DB and MESSAGES_<n>, in the Worker and the room) | in sequence | calls |\n| --- | ---: | ---: |`);
    for (const r of d1Routes) console.log(`| ${r.route} | ${r.sequential} | ${r.calls} |`);
  }
  const attachmentsByRuntime = Object.entries(attachmentResults) as [Runtime, AttachmentResult][];
  if (attachmentsByRuntime.length) {
    const mib = (kib: number) => (kib / 1024).toFixed(1);
    console.log(`\n| attachments | upload ${settings.attachmentMiB} MiB, MB/s | download ${settings.attachmentMiB} MiB, MB/s | workerd RSS before, MiB | peak during ${settings.attachmentUploads} × ${settings.attachmentUploadMiB} MiB uploads | peak − before (of ${settings.attachmentUploads * settings.attachmentUploadMiB} MiB) | SHA-256 |\n| --- | ---: | ---: | ---: | ---: | ---: | --- |`);
    for (const [runtime, a] of attachmentsByRuntime) {
      const m = a.memory;
      console.log(`| ${runtime} | ${a.upload.medianMbPerSecond.toFixed(1)} | ${a.download.medianMbPerSecond.toFixed(1)} | ${m ? mib(m.baselineKiB) : "—"} | ${m ? mib(m.peakKiB) : "—"} | ${m ? `${mib(m.addedKiB)} (${(m.addedShareOfTotal * 100).toFixed(1)}%)` : "—"} | ${a.ok ? "match" : "MISMATCH"} |`);
    }
  }
  if (shardComparison?.length) {
    console.log(`\n| ${fewest} vs ${most} shards | c | p50 ms | p99 ms | throughput | p50 × floor | p99 × floor | throughput × floor |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`);
    const pair = (xs: (number | null)[], digits = 2) => xs.map((x) => (x == null ? "—" : x.toFixed(digits))).join(" → ");
    for (const r of shardComparison) console.log(`| ${r.runtime}: ${r.scenario} | ${r.c} | ${pair(r.p50)} | ${pair(r.p99)} | ${pair(r.rps, 0)} | ${pair(r.p50VsFloor, 1)} | ${pair(r.p99VsFloor, 1)} | ${pair(r.rpsVsFloor, 3)} |`);
  }
  for (const [shards, size] of Object.entries(searchIndex)) console.log(`\nsearch index, ${shards}-shard pass: ${describeSize(size)}`);
  for (const [shards, probes] of Object.entries(searchProbes)) console.log(`search index queries alone, ${shards}-shard pass (D1 time, best of ${probes[0]?.ms.length}): ${describeProbe(probes)}`);
  if (Object.keys(seedSeconds).length) console.log(`SQL seed: ${Object.entries(seedSeconds).map(([shards, s]) => `${s} s (${shards} shard${shards === "1" ? "" : "s"})`).join(", ")}`);
  console.log(`\n${targetLines(targets)}`);
  for (const [runtime, v] of Object.entries(verify)) console.log(`\nsends checked in D1 after ${runtime} (every acknowledged send so far stored once, seqs 1..n; summaries: each conversation row's copy of its last message): ${JSON.stringify(v)}`);
  console.log(`load average before ${machine.loadavgBefore.join(" ")}, after ${machine.loadavgAfter.join(" ")}`);
  for (const n of notes) console.log(`note: ${n}`);
  console.log(`\nwritten: bench/results/latest.json`);
  if (verified.some((v) => v.ok === false) || attachmentsByRuntime.some(([, a]) => !a.ok)) process.exitCode = 1;
}

main().catch(async (error) => {
  console.error(error);
  await stop();
  bundle?.remove();
  process.exit(1);
});
