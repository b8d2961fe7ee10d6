import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { USER_SCOPES } from "../src/auth/scopes";
import { firstPartyClientsSql } from "../scripts/seed-web-client";
import { api, ORIGIN, signUp } from "./support/http";
import { approve, authorizeUrl, Browser, pkce, tokenRequest } from "./support/oauth";

const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const RESOURCES = ["users", "conversations", "messages", "chats", "realtime_tickets"];

describe("the API root", () => {
  it("links every resource collection, the OAuth metadata, the document, the docs and the app, absolute on the origin asked", async () => {
    const res = await api("/api/");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toContain("application/json");
    expect(await res.json()).toEqual({
      users: `${ORIGIN}/api/users/`,
      conversations: `${ORIGIN}/api/conversations/`,
      messages: `${ORIGIN}/api/messages/`,
      chats: `${ORIGIN}/api/chats/`,
      realtime_tickets: `${ORIGIN}/api/realtime/tickets/`,
      authorization_server: `${ORIGIN}/.well-known/oauth-authorization-server`,
      openapi: `${ORIGIN}/openapi.json`,
      docs: `${ORIGIN}/docs`,
      app: `${ORIGIN}/app/`,
    });
  });

  it("links only addresses that answer: the resources ask for a token, the rest answer 200", async () => {
    const links = (await (await api("/api/")).json()) as Record<string, string>;
    for (const [name, link] of Object.entries(links)) {
      const res = await api(new URL(link).pathname);
      await res.body?.cancel();
      // The tickets collection is POST-only: GET is refused with 405 before the token is looked at.
      const expected = name === "realtime_tickets" ? 405 : RESOURCES.includes(name) ? 401 : 200;
      expect(res.status, name).toBe(expected);
    }
  });

  it("answers at /api too, like every API path without its slash", async () => {
    expect(await (await api("/api")).json()).toEqual(await (await api("/api/")).json());
  });

  it("answers GET / with the same JSON to an API client, by default and when asked for JSON", async () => {
    const expected = await (await api("/api/")).json();
    for (const accept of [undefined, "*/*", "application/json"]) {
      const res = await api("/", { headers: accept ? { Accept: accept } : {} });
      expect(res.status, accept).toBe(200);
      expect(res.headers.get("Vary"), accept).toContain("Accept");
      expect(await res.json(), accept).toEqual(expected);
    }
  });

  it("answers GET / with a page of links to a browser", async () => {
    const res = await api("/", { headers: { Accept: BROWSER_ACCEPT } });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toContain("text/html");
    expect(res.headers.get("Content-Security-Policy")).toContain("frame-ancestors 'none'");
    const hrefs = [...(await res.text()).matchAll(/href="([^"]+)"/g)].map((m) => m[1]);
    expect(hrefs).toEqual(expect.arrayContaining(["/app/", "/docs", "/openapi.json", "/api/"]));
  });

  it("is documented as getApiRoot, public and tagged", async () => {
    type Doc = { tags: { name: string }[]; paths: Record<string, Record<string, { operationId: string; security: unknown[]; tags: string[] }>> };
    const doc = (await (await api("/openapi.json")).json()) as Doc;
    const op = doc.paths["/api/"]?.get;
    expect(op).toMatchObject({ operationId: "getApiRoot", security: [] });
    expect(doc.tags.map((t) => t.name)).toContain(op!.tags[0]);
  });
});

describe("the first-party docs client", () => {
  const DEV = "http://127.0.0.1:8787";
  const REDIRECT = `${DEV}/docs/vendor/oauth2-redirect.html`;

  it("is registered by the seed, idempotently: public, the docs' redirect page on both loopback spellings, no admin", async () => {
    for (let run = 0; run < 2; run++) await env.DB.batch(firstPartyClientsSql(DEV).map((sql) => env.DB.prepare(sql)));
    const rows = await env.DB.prepare("SELECT * FROM oauth_clients WHERE id IN ('hey-web', 'hey-docs') ORDER BY id").all<Record<string, unknown>>();
    expect(rows.results).toHaveLength(2);
    const docs = rows.results.find((r) => r.id === "hey-docs")!;
    expect(JSON.parse(String(docs.redirect_uris))).toEqual([REDIRECT, "http://localhost:8787/docs/vendor/oauth2-redirect.html"]);
    expect(docs).toMatchObject({ confidential: 0, secret_hash: null, dynamic: 0, scopes: USER_SCOPES.join(" ") });
    const web = rows.results.find((r) => r.id === "hey-web")!;
    expect(JSON.parse(String(web.redirect_uris))).toEqual([`${DEV}/app/callback`, "http://localhost:8787/app/callback"]);
  });

  it("signs a user in with PKCE as Swagger UI does, and the token it gets works on the API", async () => {
    await env.DB.batch(firstPartyClientsSql(DEV).map((sql) => env.DB.prepare(sql)));
    const user = await signUp();
    const { verifier, challenge } = pkce();
    const params = { response_type: "code", client_id: "hey-docs", redirect_uri: REDIRECT, scope: USER_SCOPES.join(" "), state: "st", code_challenge: challenge, code_challenge_method: "S256" };
    const back = await approve(new Browser(), authorizeUrl(params), user);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
    const res = await tokenRequest({ grant_type: "authorization_code", code: back.searchParams.get("code")!, client_id: "hey-docs", redirect_uri: REDIRECT, code_verifier: verifier });
    expect(res.status).toBe(200);
    const { access_token } = (await res.json()) as { access_token: string };
    expect((await api("/api/users/me/", { token: access_token })).status).toBe(200);
  });
});

describe("paths with a trailing slash the route does not have", () => {
  it("redirect with 308 to the path without it, query kept", async () => {
    for (const path of ["/healthz", "/openapi.json", "/.well-known/oauth-authorization-server", "/docs"]) {
      for (const method of ["GET", "HEAD"]) {
        const res = await api(`${path}/?x=1`, { method });
        expect(res.status, `${method} ${path}/`).toBe(308);
        expect(res.headers.get("Location"), `${method} ${path}/`).toBe(`${path}?x=1`);
      }
      const target = await api(path);
      await target.body?.cancel();
      expect(target.status, path).toBe(200);
    }
  });

  it("redirect under any method, which the path without the slash then answers or refuses", async () => {
    const res = await api("/healthz/", { method: "POST" });
    expect(res.status).toBe(308);
    expect(res.headers.get("Location")).toBe("/healthz");
  });

  it("keep their 404 when the path without the slash is not routed either", async () => {
    const res = await api("/nothing-here/");
    expect(res.status).toBe(404);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  });

  it("never redirect to another host", async () => {
    const res = await api("//healthz/");
    expect(res.status).toBe(404);
    expect(res.headers.get("Location")).toBeNull();
  });

  it("leave API and OAuth paths alone: they are canonical with the slash", async () => {
    const unknown = await api("/api/nothing-here/");
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("Location")).toBeNull();
    const metadata = await api("/o/token/", { method: "GET" });
    expect(metadata.status).toBe(405);
  });
});
