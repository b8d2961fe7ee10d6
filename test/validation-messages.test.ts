import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { start } from "./support/conversations";
import { api, ORIGIN, problemOf, signUp } from "./support/http";
import { login, registerClient } from "./support/oauth";

// Refusals a person reads in the web app or the terminal: sentences that name the field (issue 18).

type Session = Awaited<ReturnType<typeof login>>;

async function refusal(res: Response) {
  expect(res.status).toBe(400);
  const { contentType, body } = await problemOf(res);
  expect(contentType).toBe("application/problem+json");
  // No zod wording anywhere: not in the detail, not in a field's message.
  expect(JSON.stringify(body)).not.toMatch(/Invalid input|expected \w+, received|Too (big|small)|Unrecognized key/);
  return body;
}

describe("validation messages", () => {
  let me: Session;
  let conversationId: number;

  beforeAll(async () => {
    me = await login();
    const other = await signUp();
    conversationId = (await start(me, [other.id])).id;
  });

  it("say a missing field is required, by name, in the field's message and the detail", async () => {
    const body = await refusal(await api(`/api/conversations/${conversationId}/messages/`, { method: "POST", token: me.token, json: {} }));
    expect(body.errors).toEqual([{ path: "message_body", message: "`message_body` is required." }]);
    expect(body.detail).toBe("`message_body` is required.");
  });

  it("say a conversation id in the path that is not a number must be one", async () => {
    const body = await refusal(await api("/api/conversations/abc/messages/", { token: me.token }));
    expect(body.errors).toEqual([{ path: "param.id", message: "The conversation id must be a positive whole number." }]);
    expect(body.detail).toBe("The conversation id must be a positive whole number.");
  });

  it("name the resource of each id in the path, and refuse 0 and fractions the same way", async () => {
    const zero = await refusal(await api(`/api/conversations/0/`, { token: me.token }));
    expect(zero.errors).toEqual([{ path: "param.id", message: "The conversation id must be a positive whole number." }]);
    const message = await refusal(await api(`/api/conversations/${conversationId}/messages/1.5/`, { token: me.token }));
    expect(message.errors).toEqual([{ path: "param.message_id", message: "The message id must be a positive whole number." }]);
  });

  it("say a list of ids is wanted when participants is not a list", async () => {
    const body = await refusal(await api("/api/conversations/", { method: "POST", token: me.token, json: { participants: "7" } }));
    expect(body.errors).toEqual([{ path: "participants", message: "`participants` must be a list of whole numbers." }]);
  });

  it("name the item of a list that is wrong", async () => {
    const body = await refusal(await api("/api/conversations/", { method: "POST", token: me.token, json: { participants: [1, "two"] } }));
    expect(body.errors).toEqual([{ path: "participants.1", message: "Item 2 of `participants` must be a whole number." }]);
  });

  it("give the limit of a string that is too long", async () => {
    const body = await refusal(await api("/api/conversations/", { method: "POST", token: me.token, json: { participants: [], title: "t".repeat(201) } }));
    expect(body.errors).toEqual([{ path: "title", message: "`title` must be at most 200 characters long." }]);
  });

  it("give the range of a query parameter out of bounds, and the choices of an enum", async () => {
    const size = await refusal(await api("/api/conversations/?page_size=1000", { token: me.token }));
    expect(size.errors).toEqual([{ path: "query.page_size", message: "`page_size` must be at most 100." }]);
    const page = await refusal(await api("/api/conversations/?page=first", { token: me.token }));
    expect(page.errors).toEqual([{ path: "query.page", message: "`page` must be a whole number." }]);
    const status = await refusal(await api(`/api/conversations/${conversationId}/messages/?status=seen`, { token: me.token }));
    expect(status.errors).toEqual([{ path: "query.status", message: "`status` must be one of `sent`, `delivered`, `read`." }]);
  });

  it("say a wrong type by what is wanted", async () => {
    const body = await refusal(await api(`/api/conversations/${conversationId}/receipts/`, { method: "POST", token: me.token, json: { read_up_to: "3" } }));
    expect(body.errors).toEqual([{ path: "read_up_to", message: "`read_up_to` must be a whole number." }]);
  });

  it("keep a message written into the schema, naming its field in the detail", async () => {
    const body = await refusal(await api("/api/users/", { method: "POST", json: { email: "short@example.com", password: "short" } }));
    expect(body.errors).toEqual([{ path: "password", message: "Use at least 10 characters." }]);
    expect(body.detail).toBe("`password`: Use at least 10 characters.");
  });

  it("list the first three problems in the detail and count the rest", async () => {
    const body = await refusal(await api("/api/conversations/", { method: "POST", token: me.token, json: { participants: ["a", "b", "c", "d", "e"] } }));
    expect(body.errors).toHaveLength(5);
    expect(body.detail).toBe("Item 1 of `participants` must be a whole number. Item 2 of `participants` must be a whole number. Item 3 of `participants` must be a whole number. And 2 more in `errors`.");
  });
});

describe("sign-up", () => {
  it("refuses a key it does not know, as PATCH does, naming the key", async () => {
    const body = await refusal(await api("/api/users/", { method: "POST", json: { email: "staff-please@example.com", password: "a long enough password", is_staff: true } }));
    expect(body.errors).toEqual([{ path: "is_staff", message: "`is_staff` is not a known field." }]);
    // Nothing was created: the same sign-up without the key succeeds.
    const res = await api("/api/users/", { method: "POST", json: { email: "staff-please@example.com", password: "a long enough password" } });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ is_staff: false });
  });

  it("names every unknown key, one error each", async () => {
    const body = await refusal(await api("/api/users/", { method: "POST", json: { email: "two-keys@example.com", password: "a long enough password", username: "x", is_active: false } }));
    expect(body.errors).toEqual([
      { path: "username", message: "`username` is not a known field." },
      { path: "is_active", message: "`is_active` is not a known field." },
    ]);
  });
});

describe("the OAuth form endpoints", () => {
  const post = (path: string, contentType: string | null, body: string) =>
    SELF.fetch(`${ORIGIN}${path}`, { method: "POST", headers: contentType ? { "Content-Type": contentType } : {}, body });

  it.each(["/o/token/", "/o/revoke_token/", "/o/introspect/"])("%s answers a JSON body with invalid_request asking for a form", async (path) => {
    const res = await post(path, "application/json", JSON.stringify({ grant_type: "refresh_token", refresh_token: "x", token: "x", client_id: "y" }));
    expect(res.status).toBe(400);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(await res.json()).toEqual({ error: "invalid_request", error_description: "Send the parameters as application/x-www-form-urlencoded, not application/json." });
  });

  it("answers a body without a Content-Type the same way", async () => {
    const res = await post("/o/token/", null, "grant_type=refresh_token");
    // fetch labels a string body text/plain.
    expect(await res.json()).toEqual({ error: "invalid_request", error_description: "Send the parameters as application/x-www-form-urlencoded, not text/plain." });
  });

  it("names a missing parameter of a form in a sentence", async () => {
    const client = await registerClient();
    const res = await post("/o/token/", "application/x-www-form-urlencoded", new URLSearchParams({ client_id: client.clientId }).toString());
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "invalid_request", error_description: "`grant_type` is required." });
  });
});
