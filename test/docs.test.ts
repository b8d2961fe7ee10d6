import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { USER_SCOPES } from "../src/auth/scopes";
import { api } from "./support/http";

type Operation = { security?: Record<string, string[]>[] };
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme?: string; flows?: { authorizationCode: Record<string, unknown> } }> };
};

// Answered by the Worker (wrangler.toml's run_worker_first); the rest of /docs/ is static assets.
const FROM_WORKER = new Set(["/docs/init.js"]);

describe("API documentation", () => {
  let doc: Document;
  beforeAll(async () => {
    const res = await api("/openapi.json");
    expect(res.status).toBe(200);
    doc = (await res.json()) as Document;
  });

  it("serves an OpenAPI 3.1 document that lists the routes", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.paths["/api/users/"]).toHaveProperty("post");
    expect(doc.paths["/api/users/"]!.post).toMatchObject({ responses: { 201: expect.anything(), 400: expect.anything() } });
  });

  it("serves a reference page at /docs whose scripts and styles come from the worker and its assets", async () => {
    const res = await api("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toContain("text/html");
    const html = await res.text();
    const assets = [...html.matchAll(/(?:src|href)="(\/docs\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const path of assets) {
      const asset = FROM_WORKER.has(path) ? await api(path) : await env.ASSETS.fetch(`http://hey.test${path}`);
      expect(asset.status, path).toBe(200);
      expect((await asset.text()).length, path).toBeGreaterThan(0);
    }
  });

  it("configures Authorize to sign in as hey-docs with PKCE (S256), the user scopes and Swagger UI's redirect page", async () => {
    const res = await api("/docs/init.js");
    expect(res.headers.get("Content-Type")).toContain("javascript");
    const script = await res.text();
    const oauth = JSON.parse(/initOAuth\((\{.*\})\)/.exec(script)![1]!) as Record<string, unknown>;
    expect(oauth).toEqual({ clientId: "hey-docs", usePkceWithAuthorizationCodeGrant: true, scopes: USER_SCOPES });
    expect(oauth.scopes).not.toContain("admin");
    expect(script).toContain('oauth2RedirectUrl: location.origin + "/docs/vendor/oauth2-redirect.html"');
  });

  it("serves the sign-in popup's landing page with the same opener policy as /docs, so it can hand the code back", async () => {
    const page = await api("/docs");
    const res = await api("/docs/vendor/oauth2-redirect.html?code=c&state=s");
    expect(res.status).toBe(200);
    expect(res.headers.get("Cross-Origin-Opener-Policy")).toBe(page.headers.get("Cross-Origin-Opener-Policy"));
    const html = await res.text();
    const script = /<script src="([^"]+)"/.exec(html)![1]!;
    const asset = await env.ASSETS.fetch(new URL(script, "http://hey.test/docs/vendor/oauth2-redirect.html"));
    expect(asset.status).toBe(200);
    expect(await asset.text()).toContain("swaggerUIRedirectOauth2");
  });

  it("declares the OAuth flow with endpoints relative to the server, and a bearer scheme to paste a token into", () => {
    const { oauth2, bearerToken } = doc.components.securitySchemes;
    expect(oauth2?.flows?.authorizationCode).toMatchObject({ authorizationUrl: "/o/authorize/", tokenUrl: "/o/token/" });
    expect(bearerToken).toMatchObject({ type: "http", scheme: "bearer" });
  });

  it("accepts a signed-in or a pasted token on every operation Swagger UI can try that needs one", () => {
    // Not the WebSocket route: Try it out cannot open a socket.
    const secured = Object.entries(doc.paths)
      .filter(([path]) => !path.endsWith("/ws/"))
      .flatMap(([, item]) => Object.values(item).filter((op) => op.security?.length));
    expect(secured.length).toBeGreaterThan(20);
    // What may follow them is another way in: none (a signed attachment link), or a client's own credentials (webhooks).
    // An export needs two scopes at once: all of a requirement's scopes are needed, so they share one entry.
    for (const op of secured) {
      expect(op.security!.slice(0, 2)).toEqual([{ oauth2: expect.any(Array) }, { bearerToken: [] }]);
      expect(op.security![0]!.oauth2!.length).toBeGreaterThan(0);
    }
  });

  it("answers /healthz with 200", async () => {
    const res = await api("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });
});
