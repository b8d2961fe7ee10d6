import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, problemOf, signUp } from "./support/http";

const valid = { email: "Ada@Example.com", password: "analytical engine", first_name: "Ada", last_name: "Lovelace" };

describe("POST /api/users/ (sign-up)", () => {
  it("creates a user, stores the email in lower case and answers 201 with the user", async () => {
    const res = await api("/api/users/", { method: "POST", json: { ...valid, phone_number: "+442071234567", bio: "Poet" } });
    expect(res.status).toBe(201);
    const user = await res.json();
    expect(user).toMatchObject({
      email: "ada@example.com",
      first_name: "Ada",
      last_name: "Lovelace",
      phone_number: "+442071234567",
      bio: "Poet",
      is_active: true,
      is_staff: false,
    });
    expect(user).toHaveProperty("id");
  });

  it("never shows a password or a hash", async () => {
    const res = await api("/api/users/", { method: "POST", json: { ...valid, email: "secret@example.com" } });
    const text = await res.text();
    expect(text).not.toContain(valid.password);
    expect(text).not.toMatch(/pbkdf2|password/i);
  });

  it("also serves the path without its trailing slash", async () => {
    const res = await api("/api/users", { method: "POST", json: { ...valid, email: "noslash@example.com" } });
    expect(res.status).toBe(201);
  });

  it("answers 409 for an email taken in another letter case", async () => {
    const res = await api("/api/users/", { method: "POST", json: { ...valid, email: "ADA@EXAMPLE.COM" } });
    expect(res.status).toBe(409);
    const { contentType, body } = await problemOf(res);
    expect(contentType).toBe("application/problem+json");
    expect(body.errors).toEqual([{ path: "email", message: expect.stringContaining("email") }]);
  });

  it("does not reveal whether a phone number is on Hey: a second user signs up with a taken one and gets 201", async () => {
    await signUp({ phone_number: "+15550000001" });
    const res = await api("/api/users/", { method: "POST", json: { ...valid, email: "other@example.com", phone_number: "+15550000001" } });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ email: "other@example.com", phone_number: "+15550000001" });
  });

  it.each([
    ["an invalid email", { email: "not-an-email" }, "email"],
    ["a missing email", { email: undefined }, "email"],
    ["a password under 10 characters", { password: "short" }, "password"],
    ["a password equal to the email", { email: "same@example.com", password: "Same@Example.com" }, "password"],
    ["a first name over 150 characters", { first_name: "x".repeat(151) }, "first_name"],
    ["a last name that is not a string", { last_name: 7 }, "last_name"],
    ["a phone number not in E.164 form", { phone_number: "555-1234" }, "phone_number"],
  ])("refuses %s with 400 naming the field", async (_, change, path) => {
    const res = await api("/api/users/", { method: "POST", json: { ...valid, email: "fresh@example.com", ...change } });
    expect(res.status).toBe(400);
    const { contentType, body } = await problemOf(res);
    expect(contentType).toBe("application/problem+json");
    expect(body).toMatchObject({ status: 400, title: "Bad Request" });
    expect(body.errors?.map((e) => e.path)).toContain(path);
  });

  it("writes nothing when the input is invalid", async () => {
    await api("/api/users/", { method: "POST", json: { ...valid, email: "ghost@example.com", password: "short" } });
    const row = await env.DB.prepare("SELECT id FROM users WHERE email = ?").bind("ghost@example.com").first();
    expect(row).toBeNull();
  });
});
