// HTTP load with autocannon. Latencies come from autocannon's per-response event (fractional
// milliseconds) rather than its histogram, which rounds to whole milliseconds: the floor is below one.
import autocannon from "autocannon";
import { summarize, type Latency } from "./stats";

export type HttpRequest = { method?: "GET" | "POST"; path: string; headers?: Record<string, string>; body?: string };

export type LoadOptions = {
  url: string;
  connections: number;
  durationSeconds: number;
  /** Called for every request: vary the path, token or body per request. */
  request: () => HttpRequest;
  /** Status codes that count as success (default: any 2xx). */
  ok?: (status: number) => boolean;
};

export type LoadResult = Latency & { connections: number; seconds: number; ok: number; rps: number; failed: number; statuses: Record<string, number>; errors: number };

export function load(options: LoadOptions): Promise<LoadResult> {
  const ok = options.ok ?? ((s: number) => s >= 200 && s < 300);
  const samples: number[] = [];
  const statuses: Record<string, number> = {};
  let good = 0;
  let failed = 0;
  const first = options.request();
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.durationSeconds,
        pipelining: 1,
        timeout: 30,
        requests: [
          {
            ...first,
            setupRequest: (req) => {
              const next = options.request();
              return { ...req, method: next.method ?? "GET", path: next.path, headers: next.headers ?? {}, body: next.body };
            },
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        resolve({ connections: options.connections, seconds, ok: good, failed, rps: good / seconds, statuses, errors: result.errors + result.timeouts, ...summarize(samples) });
      },
    );
    instance.on("response", (_client, status, _bytes, ms) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (ok(status)) {
        good++;
        samples.push(ms);
      } else failed++;
    });
  });
}
