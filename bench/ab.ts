// `npm run bench:ab -- <git ref>`: the working tree against another commit, both production-like, measured
// in alternating short slices so that the machine's drift (±30% between runs here) hits both alike.
// Small changes (5–10%) show in the ratio B/A of the medians, where two separate `npm run bench` runs
// would bury them. A is the ref (checked out in a temporary worktree), B the working tree.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { load, type HttpRequest } from "./lib/load";
import { bundleWorker, startMiniflareServer, type Bundle, type MiniflareServer } from "./lib/miniflare-server";
import { HeyClient } from "../scripts/http-client";
import { UNLIMITED } from "../scripts/dev-server";

const env = process.env;
const root = resolve(import.meta.dirname, "..");
const ref = process.argv[2];
if (!ref) throw new Error("usage: npm run bench:ab -- <git ref> (AB_ROUNDS, AB_SLICE seconds, AB_SCENARIOS: floor,me,send,history,chats)");
const rounds = Number(env.AB_ROUNDS ?? 8);
const slice = Number(env.AB_SLICE ?? 2);
const scenarios = (env.AB_SCENARIOS ?? "floor,me,send,history,chats").split(",").map((s) => s.trim());

type Side = { server: MiniflareServer; bundle: Bundle; persistTo: string; requests: Record<string, () => HttpRequest> };

/** A server of the code in `dir`, with a conversation of 60 messages between two users and 10 more for the chat list. */
async function side(dir: string): Promise<Side> {
  const bundle = await bundleWorker({ root: dir });
  const persistTo = mkdtempSync(join(tmpdir(), "hey-ab-state-"));
  const server = await startMiniflareServer({ bundle, persistTo, root: dir, vars: UNLIMITED });
  const api = new HeyClient(server.url);
  const clientId = await api.registerClient();
  const [a, b] = [await api.signUpAndLogin(clientId), await api.signUpAndLogin(clientId)];
  const { body } = await api.json<{ id: number }>("/api/conversations/", { method: "POST", token: a.token, body: { title: "ab", participants: [b.userId] } });
  for (let i = 0; i < 60; i++) await api.json(`/api/conversations/${body.id}/messages/`, { method: "POST", token: a.token, body: { message_body: `seed ${i}` } });
  for (let i = 0; i < 10; i++) await api.json("/api/conversations/", { method: "POST", token: b.token, body: { title: `chat ${i}`, participants: [a.userId] } });
  const auth = { Authorization: `Bearer ${a.token}` };
  let n = 0;
  const requests: Record<string, () => HttpRequest> = {
    floor: () => ({ path: "/healthz" }),
    me: () => ({ path: "/api/users/me/", headers: auth }),
    send: () => ({ method: "POST", path: `/api/conversations/${body.id}/messages/`, headers: { ...auth, "Content-Type": "application/json" }, body: JSON.stringify({ message_body: `ab ${n}`, client_message_id: `ab-${Date.now()}-${n++}` }) }),
    history: () => ({ path: `/api/conversations/${body.id}/messages/?page=1&page_size=20`, headers: auth }),
    chats: () => ({ path: "/api/chats/", headers: auth }),
  };
  for (const s of scenarios) if (!requests[s]) throw new Error(`AB_SCENARIOS: unknown scenario ${s}`);
  return { server, bundle, persistTo, requests };
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

const worktree = mkdtempSync(join(tmpdir(), "hey-ab-base-"));
const sides: Side[] = [];
try {
  execFileSync("git", ["worktree", "add", "--detach", worktree, ref], { cwd: root, stdio: "ignore" });
  symlinkSync(join(root, "node_modules"), join(worktree, "node_modules"));
  // The static assets are built, not committed; wrangler refuses a bundle whose assets folder is missing.
  cpSync(join(root, "public"), join(worktree, "public"), { recursive: true });
  sides.push(await side(worktree), await side(root));
  const p50s = sides.map(() => new Map<string, number[]>());
  for (let r = 0; r < rounds; r++) {
    // Each round alternates which side goes first, so neither always follows the other.
    const order = r % 2 ? [1, 0] : [0, 1];
    for (const s of scenarios) {
      for (const i of order) {
        const result = await load({ url: sides[i]!.server.url, connections: 1, durationSeconds: slice, request: sides[i]!.requests[s]! });
        if (result.failed || result.errors) throw new Error(`${i ? "B" : "A"} ${s}: ${JSON.stringify(result.statuses)}, ${result.errors} errors`);
        p50s[i]!.set(s, [...(p50s[i]!.get(s) ?? []), result.p50]);
      }
    }
  }
  console.log(`A = ${ref}, B = the working tree; p50 at c=1, median of ${rounds} alternating ${slice} s slices (× its own floor where measured)`);
  for (const s of scenarios) {
    const [a, b] = p50s.map((m) => median(m.get(s)!));
    const floor = (i: number) => (p50s[i]!.has("floor") ? ` (${(median(p50s[i]!.get(s)!) / median(p50s[i]!.get("floor")!)).toFixed(1)}×)` : "");
    console.log(`${s.padEnd(8)} A ${a!.toFixed(2)} ms${floor(0)}   B ${b!.toFixed(2)} ms${floor(1)}   B/A ${(b! / a!).toFixed(3)}`);
  }
} finally {
  for (const s of sides) {
    await s.server.kill();
    s.bundle.remove();
    rmSync(s.persistTo, { recursive: true, force: true });
  }
  execFileSync("git", ["worktree", "remove", "--force", worktree], { cwd: root, stdio: "ignore" });
}
