// A loopback webhook receiver for the e2e suite: it records every request, checks Hey-Signature, and can be
// made unreliable (a seeded share of 500s) or unreachable for a while, on the same port.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { Socket } from "node:net";

/**
 * Verifies a `Hey-Signature` header (`t=<unix seconds>,v1=<hex>[,v1=<hex>]`) as a receiver should: the HMAC-SHA256
 * of `${t}.${rawBody}` keyed with the whole `whsec_…` secret must equal one `v1` (a second one appears while a
 * rotated secret overlaps), compared in constant time, and `t` must be within 5 minutes of now (older is a replay). Verify the raw
 * bytes as received: re-serialized JSON does not match.
 */
export function verifyHeySignature(secret: string, header: string, rawBody: Buffer | string, now = Date.now()): boolean {
  let t = NaN;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const [key, value = ""] = part.trim().split("=", 2);
    if (key === "t") t = Number(value);
    if (key === "v1") signatures.push(value);
  }
  if (!Number.isInteger(t) || Math.abs(now / 1000 - t) > 300) return false;
  const expected = createHmac("sha256", secret).update(`${t}.`).update(rawBody).digest();
  return signatures.some((hex) => {
    const given = Buffer.from(hex, "hex");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export type Received = {
  path: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  /** The parsed body, or null when it was not JSON. */
  body: any;
  /** The signature checked out against the path's secret. */
  verified: boolean;
  /** What the receiver answered. */
  status: number;
  at: number;
};

export type Receiver = {
  url: string;
  port: number;
  requests: Received[];
  /** Answers requests to `path` (others get 404), checking their signatures with `secret`. */
  route: (path: string, secret: string) => void;
  /** The share of requests (0..1) answered 500 from now on. */
  failRate: (rate: number) => void;
  /** Stops answering: the port closes (connections are refused) and open connections are cut. */
  down: () => Promise<void>;
  /** Listens again, on the same port. */
  up: () => Promise<void>;
  close: () => Promise<void>;
};

/** mulberry32: a small seeded generator, so a run's pattern of failures can be repeated. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startReceiver(options: { seed?: number } = {}): Promise<Receiver> {
  const random = seeded(options.seed ?? 15);
  const secrets = new Map<string, string>();
  const requests: Received[] = [];
  let rate = 0;
  const sockets = new Set<Socket>();

  const handler = (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const path = new URL(req.url ?? "/", "http://x").pathname;
      const secret = secrets.get(path);
      let body: any = null;
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        // Recorded as null; the test says what it expected.
      }
      const verified = secret !== undefined && verifyHeySignature(secret, String(req.headers["hey-signature"] ?? ""), raw);
      const status = secret === undefined ? 404 : !verified ? 401 : random() < rate ? 500 : 200;
      requests.push({ path, headers: req.headers, raw, body, verified, status, at: Date.now() });
      res.writeHead(status, { "Content-Type": "text/plain" }).end(status === 200 ? "ok" : "no");
    });
  };

  let server: Server;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = createServer(handler);
      server.on("connection", (s) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
      });
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Keep-alive connections would otherwise go on being answered while "down".
      for (const s of sockets) s.destroy();
    });

  const port = await listen(0);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    route: (path, secret) => void secrets.set(path, secret),
    failRate: (r) => void (rate = r),
    down: stop,
    up: async () => void (await listen(port)),
    close: stop,
  };
}
