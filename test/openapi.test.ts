import { beforeAll, describe, expect, it } from "vitest";
import { api } from "./support/http";

type Operation = { operationId?: string; description?: string; tags?: string[]; security?: Record<string, string[]>[]; responses: Record<string, unknown> };
type Document = {
  info: { contact?: { name?: string; url?: string } };
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { flows: { authorizationCode: { scopes: Record<string, string> } } }> };
};

const METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

let doc: Document;
let operations: { method: string; path: string; op: Operation }[];

beforeAll(async () => {
  const res = await api("/openapi.json");
  expect(res.status).toBe(200);
  doc = (await res.json()) as Document;
  operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.has(method))
      .map(([method, op]) => ({ method, path, op })),
  );
});

const name = (o: { method: string; path: string }) => `${o.method.toUpperCase()} ${o.path}`;

describe("the OpenAPI contract", () => {
  it("gives every operation a unique camelCase operationId", () => {
    expect(operations.length).toBeGreaterThan(30);
    for (const o of operations) expect(o.op.operationId, name(o)).toMatch(/^[a-z][a-zA-Z]*$/);
    const ids = operations.map((o) => o.op.operationId);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it("names the original API's flat message routes as such", () => {
    const flat = operations.filter((o) => o.path.startsWith("/api/messages/"));
    expect(flat.length).toBeGreaterThan(0);
    for (const o of flat) expect(o.op.operationId, name(o)).toMatch(/Flat$/);
  });

  it("describes every operation", () => {
    for (const o of operations) expect(o.op.description?.trim(), name(o)).toBeTruthy();
  });

  it("tags every operation with tags declared, and described, at the top level", () => {
    const declared = new Map((doc.tags ?? []).map((t) => [t.name, t.description]));
    for (const [tag, description] of declared) expect(description?.trim(), tag).toBeTruthy();
    for (const o of operations) {
      expect(o.op.tags?.length, name(o)).toBeGreaterThan(0);
      for (const tag of o.op.tags ?? []) expect(declared.has(tag), `${name(o)}: ${tag}`).toBe(true);
    }
  });

  it("states every operation's security: declared schemes and scopes, or [] when public", () => {
    const schemes = doc.components.securitySchemes;
    for (const o of operations) {
      expect(Array.isArray(o.op.security), name(o)).toBe(true);
      for (const requirement of o.op.security ?? []) {
        for (const [scheme, scopes] of Object.entries(requirement)) {
          expect(schemes[scheme], `${name(o)}: ${scheme}`).toBeDefined();
          for (const scope of scopes) expect(Object.keys(schemes[scheme]!.flows.authorizationCode.scopes), name(o)).toContain(scope);
        }
      }
    }
  });

  it("marks sign-up, the OAuth endpoints, the push key and a data export's signed download public, and nothing else", () => {
    const open = operations.filter((o) => o.op.security?.length === 0).map(name);
    const anyone = ["post /api/users/", "get /api/", "get /api/push/key/", "get /api/exports/{id}/"];
    const expected = operations.filter((o) => o.path.startsWith("/o/") || anyone.includes(`${o.method} ${o.path}`)).map(name);
    expect(open.sort()).toEqual(expected.sort());
  });

  it("refuses a request without a token, with 401, on every operation that needs one", async () => {
    for (const o of operations.filter((o) => o.op.security?.length)) {
      const path = o.path.replace(/\{[a-z_]+\}/g, "1");
      // The WebSocket route checks the upgrade first (426), then who is asking.
      const headers = o.path.endsWith("/ws/") ? { Upgrade: "websocket" } : undefined;
      const res = await api(path, { method: o.method.toUpperCase(), headers });
      expect(res.status, name(o)).toBe(401);
      await res.body?.cancel();
    }
  });

  it("documents the 101 answer of the WebSocket route", () => {
    expect(doc.paths["/api/conversations/{id}/ws/"]?.get?.responses).toHaveProperty("101");
  });

  it("names a contact", () => {
    expect(doc.info.contact).toMatchObject({ name: "Hey", url: expect.stringMatching(/^https?:\/\//) });
  });
});
