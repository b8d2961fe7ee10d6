import { expect, it } from "vitest";
import { api } from "./support/http";

it("answers the web app's shell for client-side paths, the OAuth callback included, and may not be framed", async () => {
  for (const path of ["/app/", "/app/c/12", "/app/callback?code=x&state=y"]) {
    const res = await api(path);
    expect(res.status, path).toBe(200);
    expect(res.headers.get("Content-Type"), path).toContain("text/html");
    expect(res.headers.get("Content-Security-Policy"), path).toContain("frame-ancestors 'none'");
    expect(await res.text(), path).toMatch(/<script[^>]+src="\/app\/assets\//);
  }
});

it("keeps a missing build file a 404 instead of answering HTML for it", async () => {
  const res = await api("/app/assets/missing.js");
  expect(res.status).toBe(404);
});

it("answers the shell for a client-side path that ends with a slash, rather than redirecting it", async () => {
  const res = await api("/app/c/12/");
  expect(res.status).toBe(200);
  expect(res.headers.get("Content-Type")).toContain("text/html");
});
