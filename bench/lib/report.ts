// The results table (also pasted into the README) and the targets.
import { round } from "./stats";

/** Where the Worker ran: `wrangler dev` (proxy worker, DevTools inspector), or one workerd through Miniflare. */
export type Runtime = "wrangler dev" | "production-like";

export type Row = {
  runtime: Runtime;
  /** Which server: "on" is the default (group commit up to 50 sends a batch), "off" has GROUP_COMMIT_MAX_BATCH=1. */
  server: "on" | "off";
  /** How many message shards (MESSAGES_<n>) the server had bound; absent for a server the benchmark did not start. */
  shards?: number;
  scenario: string;
  c: number;
  p50: number;
  p99: number;
  /** Successful requests (or messages, or MB of a transfer) per second; null where it means nothing (fan-out latencies). */
  rps: number | null;
  unit: "req/s" | "msg/s" | "MB/s" | "";
  ok?: number;
  failed?: number;
  /** The 1-minute load average when the row was measured: other work on the machine shows here. */
  load?: number;
  /**
   * workerd's CPU time per request (or message) in ms, all its threads, from /proc: steadier than a latency
   * on a shared machine. Absent where /proc is not there or the server was not started by the run.
   */
  cpuMs?: number;
  /** The floor this row is compared with: GET /healthz on the same runtime, server and shards at concurrency `floorC` (0: none). */
  floorC: number;
  ratio?: { p50: number | null; p99: number | null; rps: number | null; cpu: number | null };
};

export const FLOOR = "floor: GET /healthz";

/** Fills every row's ratio against the floor of the same runtime, server, shards and concurrency. */
export function withRatios(rows: Row[]): Row[] {
  return rows.map((r) => {
    const floor = rows.find((f) => f.scenario === FLOOR && f.runtime === r.runtime && f.server === r.server && f.shards === r.shards && f.c === r.floorC);
    if (!floor) return r;
    const cpu = r.cpuMs !== undefined && floor.cpuMs ? round(r.cpuMs / floor.cpuMs) : null;
    return { ...r, ratio: { p50: round(r.p50 / floor.p50), p99: round(r.p99 / floor.p99), rps: r.rps === null || !floor.rps ? null : round(r.rps / floor.rps, 3), cpu } };
  });
}

const fmt = (n: number | null | undefined, digits = 2) => (n === null || n === undefined || !Number.isFinite(n) ? "—" : n.toFixed(digits));
const fmtRps = (r: Row) => (r.rps === null ? "—" : `${Math.round(r.rps)} ${r.unit}`);

/** A Markdown table: readable in a terminal and pasteable into the README. */
export function table(rows: Row[]): string {
  const head = ["runtime", "shards", "scenario", "group commit", "c", "p50 ms", "p99 ms", "throughput", "p50 × floor", "p99 × floor", "throughput × floor", "CPU ms", "CPU × floor"];
  const lines = rows.map((r) => [
    r.runtime,
    r.shards === undefined ? "—" : String(r.shards),
    r.scenario,
    r.server,
    String(r.c),
    fmt(r.p50),
    fmt(r.p99),
    fmtRps(r),
    r.scenario === FLOOR ? "1" : fmt(r.ratio?.p50, 1),
    r.scenario === FLOOR ? "1" : fmt(r.ratio?.p99, 1),
    r.scenario === FLOOR ? "1" : fmt(r.ratio?.rps, 3),
    fmt(r.cpuMs, 3),
    r.scenario === FLOOR ? (r.cpuMs === undefined ? "—" : "1") : fmt(r.ratio?.cpu, 1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i < 4 && i !== 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  return [line(head), `| ${widths.map((w, i) => (i < 4 && i !== 1 ? "-".repeat(w) : `${"-".repeat(w - 1)}:`)).join(" | ")} |`, ...lines.map(line)].join("\n");
}

export type Target = { name: string; goal: string; value: string; met: boolean | null };

export function targetLines(targets: Target[]): string {
  return targets.map((t) => `${t.met === null ? "SKIP" : t.met ? "MET " : "MISS"}  ${t.name}: ${t.value} (target: ${t.goal})`).join("\n");
}
