// Attachments (issue 14): upload and download throughput of one file, sequentially, and the resident memory
// of the workerd process(es) serving the Worker while several large uploads stream in at once. Uploads are
// the raw bytes (`POST /api/conversations/{id}/attachments/?name=`), written from one buffer made once, in
// 64 KiB chunks with backpressure and an exact Content-Length; downloads (`GET /api/attachments/{id}/` with a
// bearer token) are hashed as they arrive and must match the upload's `sha256`.
// Memory: VmRSS from /proc/<pid>/status of every workerd descended from this process (`wrangler dev` runs
// two, its proxy and the Worker's; Miniflare one), summed, sampled by a worker thread so that the uploads'
// I/O on the main thread does not delay the samples. Linux only; elsewhere (or with BENCH_URL) it is skipped.
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { request, type IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { Worker } from "node:worker_threads";
import { pool } from "./seed";
import { summarize } from "./stats";

export type AttachmentOptions = {
  url: string;
  conversationId: number;
  /** Participants of the conversation: the sequential uploads are the first's, the concurrent ones round-robin. */
  tokens: string[];
  /** Size of the file whose upload and download are timed, and how many of each (after one warm-up of each). */
  fileBytes: number;
  runs: number;
  /** Uploads at once for the memory figure, and the size of each. */
  concurrent: number;
  concurrentBytes: number;
  sampleIntervalMs: number;
};

/** Sequential transfers of one size: per transfer and their median (MB = 10⁶ bytes). */
export type Transfers = { bytes: number; runs: number; ms: number[]; mbPerSecond: number[]; medianMs: number; maxMs: number; medianMbPerSecond: number };

export type ProcessMemory = { pid: number; listensOnPort: boolean; baselineKiB: number; peakKiB: number; afterKiB: number };

export type MemoryResult = {
  uploads: number;
  bytesEach: number;
  /** The bodies' sum: what buffering every upload whole would add at least. */
  totalBytes: number;
  /** Wall time of the concurrent uploads, and their combined rate. */
  seconds: number;
  mbPerSecond: number;
  uploadMs: { p50: number; max: number };
  statuses: Record<string, number>;
  sha256Matches: boolean;
  processes: ProcessMemory[];
  /** Summed over the processes (KiB, as /proc reports VmRSS): when the server started, idle right before, highest during, 1 s after. */
  atStartKiB: number;
  baselineKiB: number;
  peakKiB: number;
  afterKiB: number;
  /** peak − baseline, and that as a share of totalBytes. */
  addedKiB: number;
  addedShareOfTotal: number;
  samples: number;
  /** The longest gap between two samples (the interval asked for is sampleIntervalMs). */
  maxGapMs: number;
};

export type AttachmentResult = {
  fileBytes: number;
  upload: Transfers;
  download: Transfers;
  /** Every download hashed to its upload's `sha256` (and to the bytes sent), every upload answered 201. */
  sha256Matches: boolean;
  memory: MemoryResult | null;
  /** Why memory was not measured. */
  memorySkipped?: string;
  ok: boolean;
};

const MB = 1e6;
const CHUNK = 64 * 1024;
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => summarize(xs).p50;

/** The response's body as text (small answers only). */
function text(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    res.setEncoding("utf8");
    res.on("data", (d: string) => (out += d));
    res.on("end", () => resolve(out));
    res.on("error", reject);
  });
}

type Uploaded = { status: number; ms: number; body: { id?: string; sha256?: string; size?: number; detail?: string } };

/** Streams `bytes` as the body of one upload, in CHUNK-sized writes with backpressure; timed to the end of the answer. */
function upload(url: string, conversationId: number, token: string, bytes: Uint8Array, name: string): Promise<Uploaded> {
  const u = new URL(`/api/conversations/${conversationId}/attachments/?name=${encodeURIComponent(name)}`, url);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(
      { host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method: "POST", agent: false, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/octet-stream", "Content-Length": String(bytes.length) } },
      (res) => {
        text(res).then((t) => {
          const ms = performance.now() - started;
          let body: Uploaded["body"];
          try {
            body = JSON.parse(t) as Uploaded["body"];
          } catch {
            body = { detail: t.slice(0, 300) };
          }
          resolve({ status: res.statusCode ?? 0, ms, body });
        }, reject);
      },
    );
    req.on("error", reject);
    Readable.from(
      (function* () {
        for (let at = 0; at < bytes.length; at += CHUNK) yield bytes.subarray(at, at + CHUNK);
      })(),
      { objectMode: false },
    ).pipe(req);
  });
}

type Downloaded = { status: number; ms: number; bytes: number; sha256: string; contentLength: number };

/** One download with the bearer token, hashed as it arrives. */
function download(url: string, id: string, token: string): Promise<Downloaded> {
  const u = new URL(`/api/attachments/${encodeURIComponent(id)}/`, url);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: "GET", agent: false, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      const hash = createHash("sha256");
      let bytes = 0;
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, bytes, sha256: hash.digest("hex"), contentLength: Number(res.headers["content-length"] ?? NaN) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

const transfers = (bytes: number, ms: number[]): Transfers => {
  const rates = ms.map((m) => bytes / MB / (m / 1000));
  return { bytes, runs: ms.length, ms, mbPerSecond: rates, medianMs: median(ms), maxMs: Math.max(...ms), medianMbPerSecond: median(rates) };
};

/** Every process descended from `root` (this process by default) whose name is workerd, with its command line. */
export function workerdProcesses(root = process.pid): { pid: number; args: string }[] {
  const children = new Map<number, number[]>();
  const names = new Map<number, string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read from the last ")".
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const pid = Number(entry);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      names.set(pid, stat.slice(stat.indexOf("(") + 1, close));
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      // Gone meanwhile.
    }
  }
  const out: { pid: number; args: string }[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length) {
    const pid = queue.shift()!;
    queue.push(...(children.get(pid) ?? []));
    if (names.get(pid) !== "workerd") continue;
    let args = "";
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
    } catch {
      continue;
    }
    out.push({ pid, args });
  }
  return out;
}

/** VmRSS in KiB of each pid (0 once it is gone). */
export function rssKiB(pids: number[]): number[] {
  return pids.map((pid) => {
    try {
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      return m ? Number(m[1]) : 0;
    } catch {
      return 0;
    }
  });
}

// The sampler, in a worker thread: plain JavaScript (the benchmark runs under tsx, which a worker's eval does not use).
const SAMPLER = `
const { parentPort, workerData } = require("node:worker_threads");
const { readFileSync } = require("node:fs");
const { pids, intervalMs } = workerData;
const samples = [];
const read = () => pids.map((pid) => {
  try {
    const m = /^VmRSS:\\s+(\\d+)\\s+kB/m.exec(readFileSync("/proc/" + pid + "/status", "utf8"));
    return m ? Number(m[1]) : 0;
  } catch { return 0; }
});
const tick = () => samples.push({ at: performance.now(), kib: read() });
tick();
const timer = setInterval(tick, intervalMs);
parentPort.on("message", () => { clearInterval(timer); tick(); parentPort.postMessage(samples); });
`;

type Sample = { at: number; kib: number[] };

/** Samples the pids' VmRSS every `intervalMs` until the returned function is called; it returns the samples. */
function sampleRss(pids: number[], intervalMs: number): () => Promise<Sample[]> {
  const worker = new Worker(SAMPLER, { eval: true, workerData: { pids, intervalMs } });
  return () =>
    new Promise((resolve, reject) => {
      worker.once("message", (samples: Sample[]) => {
        void worker.terminate();
        resolve(samples);
      });
      worker.once("error", reject);
      worker.postMessage("stop");
    });
}

export async function attachmentScenario(options: AttachmentOptions, log: (m: string) => void): Promise<AttachmentResult> {
  const { url, conversationId, tokens } = options;
  const owner = tokens[0]!;
  const port = new URL(url).port;
  // One random buffer, made once: the timed file is its start, each concurrent upload all of it.
  const big = randomBytes(Math.max(options.fileBytes, options.concurrentBytes));
  const file = big.subarray(0, options.fileBytes);
  const fileHash = sha256(file);
  let matches = true;

  const found = process.platform === "linux" ? workerdProcesses() : [];
  const pids = found.map((p) => p.pid);
  const atStart = rssKiB(pids);

  // 1. Sequential uploads of the file, then downloads of one of them; one of each first as a warm-up.
  const mib = (n: number) => `${n / 2 ** 20} MiB`;
  const ids: string[] = [];
  const upMs: number[] = [];
  for (let i = 0; i <= options.runs; i++) {
    const r = await upload(url, conversationId, owner, file, `bench-${i}.bin`);
    if (r.status !== 201 || !r.body.id) throw new Error(`attachments: upload of ${mib(file.length)} answered ${r.status}: ${JSON.stringify(r.body)}`);
    if (r.body.sha256 !== fileHash || r.body.size !== file.length) matches = false;
    ids.push(r.body.id);
    if (i > 0) upMs.push(r.ms);
  }
  const up = transfers(file.length, upMs);
  log(`attachments: upload of ${mib(file.length)}, median ${up.medianMbPerSecond.toFixed(1)} MB/s (${up.medianMs.toFixed(0)} ms) over ${up.runs}`);
  const downMs: number[] = [];
  for (let i = 0; i <= options.runs; i++) {
    const r = await download(url, ids[1]!, owner);
    if (r.status !== 200) throw new Error(`attachments: download answered ${r.status}`);
    if (r.bytes !== file.length || r.contentLength !== file.length || r.sha256 !== fileHash) matches = false;
    if (i > 0) downMs.push(r.ms);
  }
  const down = transfers(file.length, downMs);
  log(`attachments: download of ${mib(file.length)}, median ${down.medianMbPerSecond.toFixed(1)} MB/s (${down.medianMs.toFixed(0)} ms) over ${down.runs}; SHA-256 ${matches ? "matches" : "DOES NOT MATCH"}`);

  // 2. Memory of workerd while `concurrent` uploads stream in at once.
  let memory: MemoryResult | null = null;
  let memorySkipped: string | undefined;
  const runConcurrent = async () => {
    const started = performance.now();
    const results = await pool(Array.from({ length: options.concurrent }), options.concurrent, (_, i) => upload(url, conversationId, tokens[i % tokens.length]!, big.subarray(0, options.concurrentBytes), `bench-concurrent-${i}.bin`));
    return { results, seconds: (performance.now() - started) / 1000 };
  };
  const bigHash = sha256(big.subarray(0, options.concurrentBytes));
  if (!pids.length) {
    memorySkipped = process.platform !== "linux" ? "not Linux (no /proc)" : "no workerd process descends from this one (a server the benchmark did not start)";
    const { results, seconds } = await runConcurrent();
    if (results.some((r) => r.status !== 201 || r.body.sha256 !== bigHash)) matches = false;
    log(`attachments: ${options.concurrent} concurrent uploads of ${mib(options.concurrentBytes)} in ${seconds.toFixed(1)} s; memory not measured: ${memorySkipped}`);
  } else {
    // Idle first: the baseline is the median of a second's samples right before the uploads.
    await sleep(1000);
    const stopIdle = sampleRss(pids, options.sampleIntervalMs);
    await sleep(1000);
    const idle = await stopIdle();
    const stop = sampleRss(pids, options.sampleIntervalMs);
    const { results, seconds } = await runConcurrent();
    const during = await stop();
    await sleep(1000);
    const after = rssKiB(pids);
    const statuses: Record<string, number> = {};
    for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    const sha256Matches = results.every((r) => r.status === 201 && r.body.sha256 === bigHash && r.body.size === options.concurrentBytes);
    if (!sha256Matches) matches = false;
    const total = (kib: number[]) => kib.reduce((a, b) => a + b, 0);
    const baselineOf = (i: number) => median(idle.map((s) => s.kib[i]!));
    const baselineKiB = median(idle.map((s) => total(s.kib)));
    const peakKiB = Math.max(...during.map((s) => total(s.kib)));
    const gaps = during.slice(1).map((s, i) => s.at - during[i]!.at);
    const totalBytes = options.concurrent * options.concurrentBytes;
    memory = {
      uploads: options.concurrent,
      bytesEach: options.concurrentBytes,
      totalBytes,
      seconds,
      mbPerSecond: totalBytes / MB / seconds,
      uploadMs: { p50: median(results.map((r) => r.ms)), max: Math.max(...results.map((r) => r.ms)) },
      statuses,
      sha256Matches,
      processes: found.map((p, i) => ({ pid: p.pid, listensOnPort: p.args.includes(`:${port} `) || p.args.endsWith(`:${port}`), baselineKiB: baselineOf(i), peakKiB: Math.max(...during.map((s) => s.kib[i]!)), afterKiB: after[i]! })),
      atStartKiB: total(atStart),
      baselineKiB,
      peakKiB,
      afterKiB: total(after),
      addedKiB: peakKiB - baselineKiB,
      addedShareOfTotal: ((peakKiB - baselineKiB) * 1024) / totalBytes,
      samples: during.length,
      maxGapMs: gaps.length ? Math.max(...gaps) : NaN,
    };
    const m = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
    log(
      `attachments: ${options.concurrent} concurrent uploads of ${mib(options.concurrentBytes)} in ${seconds.toFixed(1)} s (${JSON.stringify(statuses)}); workerd RSS (${pids.length} process${pids.length === 1 ? "" : "es"}) ` +
        `at start ${m(memory.atStartKiB)}, baseline ${m(baselineKiB)}, peak ${m(peakKiB)} (+${m(memory.addedKiB)} against ${mib(totalBytes)} of bodies), after ${m(memory.afterKiB)}; ${during.length} samples, longest gap ${memory.maxGapMs.toFixed(0)} ms`,
    );
  }
  return { fileBytes: options.fileBytes, upload: up, download: down, sha256Matches: matches, memory, ...(memorySkipped ? { memorySkipped } : {}), ok: matches && (memory?.sha256Matches ?? true) };
}
