import { SELF } from "cloudflare:test";
import { hc, type InferResponseType } from "hono/client";
import { beforeAll, describe, expect, expectTypeOf, it, vi } from "vitest";
import type { AppType } from "../src/app";
import { login } from "./support/oauth";

vi.setConfig({ testTimeout: 30_000, hookTimeout: 60_000 });

// Hono's client derives every path, input and response from AppType. A path that ends with a slash
// ("/api/conversations/:id/messages/") becomes a chain ending in `.index`, and the client sends it
// without the slash ("/api/conversations/1/messages"), which the API serves as the same route.
const client = hc<AppType>("http://hey.test", { fetch: (input: RequestInfo | URL, init?: RequestInit) => SELF.fetch(input, init) });
const messages = client.api.conversations[":id"].messages;

type Session = Awaited<ReturnType<typeof login>>;
let a: Session, b: Session;
let conversation: string;
const as = (who: Session) => ({ headers: { Authorization: `Bearer ${who.token}` } });

beforeAll(async () => {
  [a, b] = await Promise.all([login(), login()]);
  const res = await client.api.conversations.index.$post({ json: { participants: [b.user.id], title: "typed" } }, as(a));
  if (res.status !== 201) throw new Error(`conversation not created: ${res.status}`);
  conversation = String((await res.json()).id);
});

describe("the typed client", () => {
  it("sends a message and reads it back through typed calls", async () => {
    const res = await messages.index.$post({ param: { id: conversation }, json: { message_body: "typed hello", client_message_id: "typed-1" }, header: {} }, as(a));
    expect(res.status).toBe(201);
    if (res.status !== 201) return;
    const sent = await res.json();
    expectTypeOf(sent.seq).toEqualTypeOf<number>();
    expectTypeOf(sent.status).toEqualTypeOf<"pending" | "sent" | "delivered" | "read">();
    expectTypeOf(sent.edited_at).toEqualTypeOf<string | null>();
    expect(sent).toMatchObject({ conversation: Number(conversation), seq: 1, message_body: "typed hello", client_message_id: "typed-1", sender: { id: a.user.id } });

    const one = await messages[":message_id"].index.$get({ param: { id: conversation, message_id: String(sent.id) } }, as(b));
    expect(one.status).toBe(200);
    if (one.status !== 200) return;
    const read = await one.json();
    expect(read).toEqual({ ...sent, status: "sent" });

    const list = await messages.index.$get({ param: { id: conversation }, query: { page_size: "10" } }, as(b));
    expect(list.status).toBe(200);
    if (list.status !== 200) return;
    const page = await list.json();
    expectTypeOf(page.results).toEqualTypeOf<InferResponseType<typeof messages.index.$post, 201>[]>();
    expect([page.count, page.next, page.previous, page.results.map((m) => m.message_body)]).toEqual([1, null, null, ["typed hello"]]);
  });

  it("passes the Idempotency-Key header as a typed header and gets the retry's 200", async () => {
    const send = () => messages.index.$post({ param: { id: conversation }, json: { message_body: "once" }, header: { "idempotency-key": "typed-2" } }, as(a));
    const first = await send();
    const again = await send();
    expect([first.status, again.status]).toEqual([201, 200]);
    if (first.status !== 201 || again.status !== 200) return;
    expect((await again.json()).id).toBe((await first.json()).id);
  });

  it("sends through the original flat route and moves receipts", async () => {
    const res = await client.api.messages.index.$post({ json: { conversation: Number(conversation), message_body: "flat and typed" }, header: {} }, as(b));
    expect(res.status).toBe(201);
    if (res.status !== 201) return;
    const m = await res.json();
    const marks = await client.api.conversations[":id"].receipts.index.$post({ param: { id: conversation }, json: { read_up_to: m.seq } }, as(a));
    expect(marks.status).toBe(200);
    if (marks.status !== 200) return;
    expect(await marks.json()).toEqual({ user: a.user.id, delivered_up_to: m.seq, read_up_to: m.seq });
  });

  it("knows only the success statuses: problem answers arrive untyped", async () => {
    const res = await messages.index.$post({ param: { id: conversation }, json: { message_body: "   " }, header: {} }, as(a));
    // The routes declare 400/401/403/404/409 in OpenAPI, but the client's types come from what handlers
    // return, and problems are thrown (DomainError, the validation hook, the bearer middleware).
    expectTypeOf(res.status).toEqualTypeOf<200 | 201>();
    expect(res.status as number).toBe(400);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    const problem = (await res.json()) as unknown as { errors: { path: string }[] };
    expect(problem.errors.map((e) => e.path)).toEqual(["message_body"]);
    const missing = await messages.index.$get({ param: { id: "999999" }, query: {} }, as(a));
    expect(missing.status as number).toBe(404);
  });

  it("builds slash-less URLs for the API's slash-ended paths", () => {
    expect(messages.index.$url({ param: { id: "7" } }).pathname).toBe("/api/conversations/7/messages");
    expect(messages[":message_id"].index.$url({ param: { id: "7", message_id: "9" } }).pathname).toBe("/api/conversations/7/messages/9");
  });
});
