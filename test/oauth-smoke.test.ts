import { expect, it } from "vitest";
import { api } from "./support/http";
import { login } from "./support/oauth";

it("a token from the full flow reads /api/users/me", async () => {
  const { user, token } = await login();
  const res = await api("/api/users/me", { token });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ id: user.id, email: user.email });
});
