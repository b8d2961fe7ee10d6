// A vitest globalSetup (runs in Node, once per run): a loopback HTTP server standing in for webhook
// receivers and browsers' push services. The Worker's queue consumer calls it; tests read what it got.
//
// - Any path: recorded (method, path, query, headers, raw body as base64) and answered with the next status
//   queued for it by /_control, else 201 under /push/ (as a push service answers) and 200 elsewhere.
// - POST /_control {path, statuses: [500, 200]}: the next answers for requests to exactly `path`.
// - GET /_log?path=/hooks/x: the requests to `path` (or under `path/`), oldest first.
// - POST /_reset {path}: forgets the requests to `path` and its queued answers.
// Every test uses its own random path, so test files running at once never see each other's requests.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

export type Recorded = { seq: number; at: number; method: string; path: string; query: string; headers: Record<string, string>; body: string };

const matches = (path: string, prefix: string) => path === prefix || path.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`);

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

let server: Server | undefined;

export default async function setup(project: TestProject) {
  const log: Recorded[] = [];
  const answers = new Map<string, number[]>();
  let seq = 0;

  server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://receiver");
    const body = await bodyOf(req);
    const reply = (status: number, value?: unknown) => {
      res.writeHead(status, value === undefined ? {} : { "Content-Type": "application/json" });
      res.end(value === undefined ? undefined : JSON.stringify(value));
    };
    try {
      if (url.pathname === "/_control" && req.method === "POST") {
        const { path, statuses } = JSON.parse(body.toString("utf8")) as { path: string; statuses: number[] };
        answers.set(path, [...(answers.get(path) ?? []), ...statuses]);
        return reply(204);
      }
      if (url.pathname === "/_log" && req.method === "GET") {
        const path = url.searchParams.get("path") ?? "/";
        return reply(200, log.filter((r) => matches(r.path, path)));
      }
      if (url.pathname === "/_reset" && req.method === "POST") {
        const { path } = JSON.parse(body.toString("utf8") || "{}") as { path?: string };
        for (let i = log.length - 1; i >= 0; i--) if (path === undefined || matches(log[i]!.path, path)) log.splice(i, 1);
        for (const key of [...answers.keys()]) if (path === undefined || matches(key, path)) answers.delete(key);
        return reply(204);
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
      seq += 1;
      log.push({ seq, at: Date.now(), method: req.method ?? "", path: url.pathname, query: url.search, headers, body: body.toString("base64") });
      const queued = answers.get(url.pathname);
      const status = queued?.length ? queued.shift()! : url.pathname.startsWith("/push/") ? 201 : 200;
      return reply(status);
    } catch (error) {
      return reply(400, { error: String(error) });
    }
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  project.provide("receiverOrigin", `http://127.0.0.1:${port}`);
  return async () => {
    // workerd keeps its connections alive: close them, or close() would wait for them.
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
  };
}

declare module "vitest" {
  interface ProvidedContext {
    /** The loopback receiver's origin, such as http://127.0.0.1:40123. */
    receiverOrigin: string;
  }
}
