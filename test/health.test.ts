import { SELF } from "cloudflare:test";
import { expect, it } from "vitest";

it("answers /healthz with 200", async () => {
  const res = await SELF.fetch("http://hey.test/healthz");
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ ok: true });
});
