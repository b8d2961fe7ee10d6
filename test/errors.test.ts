import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app";
import { api, problemOf } from "./support/http";

async function expectProblem(res: Response, status: number) {
  expect(res.status).toBe(status);
  const { contentType, body } = await problemOf(res);
  expect(contentType).toBe("application/problem+json");
  expect(body).toMatchObject({ type: "about:blank", status, title: expect.any(String), detail: expect.any(String) });
  return body;
}

describe("every error is application/problem+json", () => {
  it("404 for an unknown route", async () => {
    await expectProblem(await api("/api/nothing-here/"), 404);
  });

  it("405 with Allow for a known path under another method", async () => {
    const res = await api("/api/users/", { method: "PUT", json: {} });
    expect(res.headers.get("Allow")).toBe("POST, GET, HEAD");
    expect(res.headers.get("X-Frame-Options")).toBe("DENY");
    const body = await expectProblem(res, 405);
    expect(body.detail).toBe("PUT is not allowed here; use POST, GET, HEAD.");
  });

  it("405 for an API path sent without its trailing slash, judged by the canonical path", async () => {
    const res = await api("/api/users/me", { method: "PUT" });
    expect(res.headers.get("Allow")).toBe("DELETE, GET, HEAD, PATCH");
    await expectProblem(res, 405);
  });

  it("308 to the path without its trailing slash when only that one is served, not 405", async () => {
    const res = await api("/healthz/");
    expect(res.status).toBe(308);
    expect(res.headers.get("Allow")).toBeNull();
    expect(new URL(res.headers.get("Location")!, "http://hey.test").pathname).toBe("/healthz");
  });

  it("404 for a path with a trailing slash whose slashless form is not served either", async () => {
    await expectProblem(await api("/nothing-here/"), 404);
  });

  it("sends GET /docs/ to the reference page at /docs rather than refusing the method", async () => {
    const res = await api("/docs/");
    expect(res.status).toBe(308);
    expect(new URL(res.headers.get("Location")!, "http://hey.test").pathname).toBe("/docs");
  });

  it("400 for malformed JSON", async () => {
    const res = await api("/api/users/", { method: "POST", body: "{not json", headers: { "Content-Type": "application/json" } });
    await expectProblem(res, 400);
  });

  it("400 with an errors list for a validation failure", async () => {
    const body = await expectProblem(await api("/api/users/", { method: "POST", json: { email: 1 } }), 400);
    expect(body.errors).toEqual(expect.arrayContaining([{ path: "email", message: "Enter a valid email address." }]));
  });

  it("413 for a body over the limit", async () => {
    const res = await api("/api/users/", { method: "POST", json: { bio: "x".repeat(100_000) } });
    await expectProblem(res, 413);
  });

  it("415 for a body that is not JSON", async () => {
    const res = await api("/api/users/", { method: "POST", body: "email=a@b.c", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    await expectProblem(res, 415);
  });

  it("500 for an unexpected exception, without its message or stack, which are logged instead", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const app = createApp();
    app.get("/boom", () => {
      throw new Error("SELECT secret FROM internals");
    });
    const res = await app.request("/boom", {}, env);
    const body = await expectProblem(res, 500);
    expect(JSON.stringify(body)).not.toMatch(/SELECT|internals|at /);
    expect(logged).toHaveBeenCalledWith("GET /boom failed", expect.objectContaining({ message: "SELECT secret FROM internals" }));
    logged.mockRestore();
  });
});
