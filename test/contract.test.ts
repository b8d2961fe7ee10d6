import { SELF } from "cloudflare:test";
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import createClient, { type Middleware } from "openapi-fetch";
import { beforeAll, describe, expect, expectTypeOf, it, vi } from "vitest";
import type { components, paths } from "../src/client/api-types";
import { ORIGIN } from "./support/http";
import { login } from "./support/oauth";

vi.setConfig({ testTimeout: 30_000, hookTimeout: 60_000 });

// The OpenAPI document as a contract. src/client/api-types.ts is generated from it by openapi-typescript
// (npm run client:types; CI's `npm run client:types -- --check` fails when it is stale: openapi-typescript
// needs Node, so that check cannot run here). These tests drive the Worker through openapi-fetch typed with
// those `paths` (so a renamed field or a changed parameter fails `tsc`), and check every answer, errors
// included, against the live /openapi.json: the status must be one the operation documents, the
// Content-Type one of that status's media types, and the body must validate against its JSON Schema
// (OpenAPI 3.1 = JSON Schema 2020-12) with Ajv. Ajv compiles validators with `new Function`: the Worker
// itself may not, but this test isolate may (vitest-pool-workers allows code generation in tests).

type Schema = components["schemas"];
type Doc = { paths: Record<string, Record<string, { operationId: string; responses: Record<string, { content?: Record<string, unknown> }> }>> };

const DOC_ID = "https://hey.test/openapi.json";
let doc: Doc;
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const validators = new Map<string, ValidateFunction>();

/** A JSON pointer into the document, as a URI fragment. */
const pointer = (...segments: string[]) => "#/" + segments.map((s) => encodeURIComponent(s.replace(/~/g, "~0").replace(/\//g, "~1"))).join("/");

/**
 * Checks one answer against the document: "<operationId> <status>" when it conforms, followed by ": <what
 * is wrong>" when it does not.
 */
async function conformance(method: string, schemaPath: string, res: Response): Promise<string> {
  const operation = doc.paths[schemaPath]?.[method.toLowerCase()];
  if (!operation) return `${method} ${schemaPath}: not in the document`;
  const call = `${operation.operationId} ${res.status}`;
  const documented = operation.responses[String(res.status)];
  if (!documented) return `${call}: status not documented (documented: ${Object.keys(operation.responses).join(", ")})`;
  const text = await res.clone().text();
  if (!documented.content) return text === "" ? call : `${call}: a body where the document has none`;
  const type = (res.headers.get("Content-Type") ?? "").split(";")[0]!.trim();
  if (!(type in documented.content)) return `${call}: Content-Type ${type || "(none)"}, documented: ${Object.keys(documented.content).join(", ")}`;
  const ref = DOC_ID + pointer("paths", schemaPath, method.toLowerCase(), "responses", String(res.status), "content", type, "schema");
  let validate = validators.get(ref);
  if (!validate) {
    validate = ajv.getSchema(ref);
    if (!validate) return `${call}: no schema at ${ref}`;
    validators.set(ref, validate);
  }
  return validate(JSON.parse(text)) ? call : `${call}: ${ajv.errorsText(validate.errors, { dataVar: "body" })}`;
}

/** What each test checked, in order; drained (and asserted) by the test. */
const checked: string[] = [];
const drain = () => checked.splice(0);

/** Every answer through openapi-fetch is checked, whatever its status. */
const contract: Middleware = {
  async onResponse({ request, schemaPath, response }) {
    checked.push(await conformance(request.method, schemaPath, response));
  },
};

/** An openapi-fetch client for the Worker, as `token`'s holder (or anonymous). */
function client(token?: string) {
  const api = createClient<paths>({
    baseUrl: ORIGIN,
    fetch: (req) => SELF.fetch(req),
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  api.use(contract);
  return api;
}

async function signUp(anonymous: ReturnType<typeof client>, first_name: string) {
  const body = { email: `${first_name.toLowerCase()}-${crypto.randomUUID().slice(0, 8)}@example.com`, password: "a long enough password", first_name, last_name: "Contract" };
  const { data, response } = await anonymous.POST("/api/users/", { body });
  expect(response.status).toBe(201);
  if (!data) throw new Error("sign-up answered no user");
  return { ...data, password: body.password };
}

beforeAll(async () => {
  const res = await SELF.fetch(`${ORIGIN}/openapi.json`);
  expect(res.status).toBe(200);
  doc = await res.json();
  ajv.addSchema(doc, DOC_ID);
});

describe("the OpenAPI document as a contract", () => {
  it("has a checker that refuses what the document does not allow", async () => {
    const json = (body: unknown, status = 200, type = "application/json") => new Response(JSON.stringify(body), { status, headers: { "Content-Type": type } });
    const message = { id: 1, conversation: 1, seq: 1, sender: { id: 1, first_name: "A", last_name: "B" }, message_body: "hi", sent_at: "2026-01-01T00:00:00.000Z", edited_at: null, deleted: false, status: "sent", client_message_id: null, mentions: [], reply_to: null, reply_count: 0, reactions: [], pinned_at: null, pinned_by: null, attachments: [], expires_at: null, deleted_by: null, blocked: false };
    const path = "/api/conversations/{id}/messages/{message_id}/";
    expect(await conformance("GET", path, json(message))).toBe("getMessage 200");
    const { seq: _, ...noSeq } = message;
    expect(await conformance("GET", path, json(noSeq))).toBe("getMessage 200: body must have required property 'seq'");
    expect(await conformance("GET", path, json({ ...message, status: "lost" }))).toBe("getMessage 200: body/status must be equal to one of the allowed values");
    expect(await conformance("GET", path, json({ ...message, sent_at: "yesterday" }))).toBe('getMessage 200: body/sent_at must match format "date-time"');
    expect(await conformance("GET", path, json(message, 200, "text/plain"))).toBe("getMessage 200: Content-Type text/plain, documented: application/json");
    expect(await conformance("GET", path, json(message, 418))).toBe("getMessage 418: status not documented (documented: 200, 401, 403, 404)");
    expect(await conformance("GET", path, json({ detail: "gone" }, 404, "application/problem+json"))).toMatch(/^getMessage 404: body must have required property/);
  });

  it("carries a typed client through sign-up, token, conversation, send, list and chat list, every answer as documented", async () => {
    const anonymous = client();
    const alice = await signUp(anonymous, "Alice");
    const bob = await signUp(anonymous, "Bob");
    expectTypeOf(alice.id).toEqualTypeOf<number>();
    expectTypeOf(alice.phone_number).toEqualTypeOf<string | null>();
    expect(alice).toMatchObject({ first_name: "Alice", last_name: "Contract", is_active: true, is_staff: false });

    // The token endpoint takes a form through the sign-in and consent pages: the support helper walks them.
    const a = client((await login({ user: alice })).token);
    const b = client((await login({ user: bob })).token);

    const me = await a.GET("/api/users/me/");
    expect([me.response.status, me.data?.email]).toEqual([200, alice.email]);

    const created = await a.POST("/api/conversations/", { body: { participants: [bob.id], title: "contract" } });
    expect(created.response.status).toBe(201);
    const conversation = created.data!;
    expectTypeOf(conversation.title).toEqualTypeOf<string | null>();
    expect(conversation).toMatchObject({ title: "contract", owner: alice.id, last_seq: 0, last_message_at: null });
    expect(conversation.participants.map((p) => p.id).sort((x, y) => x - y)).toEqual([alice.id, bob.id].sort((x, y) => x - y));

    const sent = await a.POST("/api/conversations/{id}/messages/", {
      params: { path: { id: conversation.id } },
      body: { message_body: "hello through the contract", client_message_id: "contract-1" },
    });
    expect(sent.response.status).toBe(201);
    const message = sent.data!;
    expectTypeOf(message.seq).toEqualTypeOf<number>();
    expectTypeOf(message.status).toEqualTypeOf<"pending" | "sent" | "delivered" | "read">();
    expectTypeOf(message.edited_at).toEqualTypeOf<string | null>();
    expect(message).toMatchObject({ conversation: conversation.id, seq: 1, message_body: "hello through the contract", client_message_id: "contract-1", deleted: false, sender: { id: alice.id, first_name: "Alice" } });

    const list = await b.GET("/api/conversations/{id}/messages/", { params: { path: { id: conversation.id }, query: { page_size: 10 } } });
    expect(list.response.status).toBe(200);
    const page = list.data!;
    expectTypeOf(page.results).toEqualTypeOf<Schema["Message"][]>();
    expect([page.count, page.next, page.previous, page.results.map((m) => [m.id, m.message_body])]).toEqual([1, null, null, [[message.id, "hello through the contract"]]]);

    const chats = await b.GET("/api/chats/");
    expect(chats.response.status).toBe(200);
    const chat = chats.data!.results.find((c) => c.conversation.id === conversation.id);
    expect(chat).toMatchObject({ unread_count: 1, conversation: { id: conversation.id, last_seq: 1 }, last_message: { id: message.id, message_body: "hello through the contract" } });

    expect(drain()).toEqual([
      "signUp 201",
      "signUp 201",
      "getMe 200",
      "createConversation 201",
      "sendMessage 201",
      "listMessages 200",
      "listChats 200",
    ]);
  });

  it("answers problems as documented: 400 with the failing fields, 401, 404, 409", async () => {
    const anonymous = client();
    const alice = await signUp(anonymous, "Carol");
    const a = client((await login({ user: alice })).token);
    drain();

    const short = await anonymous.POST("/api/users/", { body: { email: "short@example.com", password: "short" } });
    expect(short.response.status).toBe(400);
    expectTypeOf(short.error!.detail).toEqualTypeOf<string>();
    expect(short.error?.errors?.map((e) => e.path)).toEqual(["password"]);

    const taken = await anonymous.POST("/api/users/", { body: { email: alice.email, password: "a long enough password" } });
    expect(taken.response.status).toBe(409);

    const conversation = (await a.POST("/api/conversations/", { body: { participants: [] } })).data!;
    const blank = await a.POST("/api/conversations/{id}/messages/", { params: { path: { id: conversation.id } }, body: { message_body: "   " } });
    expect(blank.response.status).toBe(400);
    expect(blank.error?.errors?.map((e) => e.path)).toEqual(["message_body"]);

    const unsigned = await anonymous.GET("/api/chats/");
    expect([unsigned.response.status, unsigned.error?.status]).toEqual([401, 401]);

    const missing = await a.GET("/api/conversations/{id}/", { params: { path: { id: 999_999 } } });
    expect([missing.response.status, missing.error?.status]).toEqual([404, 404]);

    expect(drain()).toEqual(["signUp 400", "signUp 409", "createConversation 201", "sendMessage 400", "listChats 401", "getConversation 404"]);
  });

  it("answers the token endpoint's refresh grant and its refusal as documented", async () => {
    const anonymous = client();
    const session = await login({ user: await signUp(anonymous, "Dan") });
    drain();
    // The token endpoint's body is a form (application/x-www-form-urlencoded), as the document says.
    const form = { bodySerializer: (body: Record<string, string | undefined>) => new URLSearchParams(Object.entries(body).filter((e): e is [string, string] => e[1] !== undefined)), headers: { "Content-Type": "application/x-www-form-urlencoded" } };
    const refreshed = await anonymous.POST("/o/token/", { body: { grant_type: "refresh_token", refresh_token: session.tokens.refresh_token, client_id: session.client.clientId }, ...form });
    expect(refreshed.response.status).toBe(200);
    expectTypeOf(refreshed.data!.token_type).toEqualTypeOf<"Bearer">();
    expect(refreshed.data).toMatchObject({ token_type: "Bearer", scope: session.tokens.scope });

    const spent = await anonymous.POST("/o/token/", { body: { grant_type: "authorization_code", code: "no-such-code", redirect_uri: "http://127.0.0.1/callback", code_verifier: "x".repeat(43), client_id: session.client.clientId }, ...form });
    expect([spent.response.status, spent.error?.error]).toEqual([400, "invalid_grant"]);

    expect(drain()).toEqual(["token 200", "token 400"]);
  });

  it("documents a chat without messages yet (last_message: null) as valid", async () => {
    const anonymous = client();
    const erin = await signUp(anonymous, "Erin");
    const e = client((await login({ user: erin })).token);
    await e.POST("/api/conversations/", { body: { participants: [], title: "quiet" } });
    drain();
    const chats = await e.GET("/api/chats/");
    expect(chats.response.status).toBe(200);
    expect(chats.data?.results.map((c) => [c.conversation.title, c.last_message])).toEqual([["quiet", null]]);
    expect(drain()).toEqual(["listChats 200"]);
  });
});
