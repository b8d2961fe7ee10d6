import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api } from "./support/http";

describe("API documentation", () => {
  it("serves an OpenAPI 3.1 document that lists the routes", async () => {
    const res = await api("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.paths["/api/users/"]).toHaveProperty("post");
    expect(doc.paths["/api/users/"]!.post).toMatchObject({ responses: { 201: expect.anything(), 400: expect.anything() } });
  });

  it("serves a reference page at /docs whose scripts and styles come from the worker's assets", async () => {
    const res = await api("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toContain("text/html");
    const html = await res.text();
    const assets = [...html.matchAll(/(?:src|href)="(\/docs\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const path of assets) {
      const asset = await env.ASSETS.fetch(`http://hey.test${path}`);
      expect(asset.status, path).toBe(200);
      expect((await asset.text()).length, path).toBeGreaterThan(0);
    }
  });

  it("answers /healthz with 200", async () => {
    const res = await api("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });
});
