// CPU profiles of every worker in the production-like runtime's workerd (BENCH_PROFILE): the app, and
// Miniflare's own workers that stand in for the platform (its entry, each D1 database, R2, queues). Each
// is written as a .cpuprofile (open it in Chrome DevTools' Performance panel or speedscope); the log names
// the app's busiest functions. Workers share threads, so one worker's samples are not a share of the CPU.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";

type Target = { title: string; webSocketDebuggerUrl: string };
type ProfileNode = { id: number; callFrame: { functionName: string; url: string; lineNumber: number } };
type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };

/** A DevTools protocol session on one worker: call a method, get its result. */
async function session(target: Target) {
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  const pending = new Map<number, (result: unknown) => void>();
  ws.on("message", (data) => {
    const m = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (m.id !== undefined) pending.get(m.id)?.(m.result);
  });
  let id = 0;
  const call = <T>(method: string, params: object = {}) =>
    new Promise<T>((resolve) => {
      pending.set(++id, resolve as (r: unknown) => void);
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { title: target.title.replace(/^workerd: worker /, ""), call, close: () => ws.close() };
}

/** A profile's top functions by self time (neither idle nor outside JavaScript). */
function busiest(profile: Profile): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  profile.samples.forEach((s, i) => {
    const frame = byId.get(s)!.callFrame;
    if (frame.functionName === "(idle)" || frame.functionName === "(program)") return;
    const us = profile.timeDeltas[i] ?? 0;
    const key = `${frame.functionName || "(anonymous)"} ${frame.url.split("/").pop()}:${frame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + us);
  });
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, us]) => `${(us / 1000).toFixed(0)} ms ${k}`);
}

/**
 * Starts profiling every worker behind the inspector on `port`; the returned function stops, writes the
 * profiles into `dir` and returns a report naming them and the app's busiest functions.
 */
export async function startProfiling(port: number, dir: string, app: string): Promise<() => Promise<string>> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Target[];
  const sessions = await Promise.all(targets.map(session));
  for (const s of sessions) {
    await s.call("Profiler.enable");
    await s.call("Profiler.setSamplingInterval", { interval: 500 });
    await s.call("Profiler.start");
  }
  return async () => {
    mkdirSync(dir, { recursive: true });
    let top: string[] = [];
    for (const s of sessions) {
      const { profile } = await s.call<{ profile: Profile }>("Profiler.stop");
      s.close();
      writeFileSync(join(dir, `${s.title.replace(/[^\w.-]+/g, "_")}.cpuprofile`), JSON.stringify(profile));
      if (s.title === app) top = busiest(profile);
    }
    return [`CPU profiles of ${sessions.length} workers in ${dir}; ${app}'s busiest functions (self time):`, ...top.map((t) => `  ${t}`)].join("\n");
  };
}
