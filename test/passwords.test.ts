import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "../src/auth/password";
import { PASSWORD_ITERATIONS } from "../src/config";
import { authenticate } from "../src/users/users";
import { database } from "../src/db/client";
import { signUp } from "./support/http";

describe("passwords", () => {
  it("use exactly 100,000 PBKDF2 iterations, the most production workerd allows", () => {
    expect(PASSWORD_ITERATIONS).toBe(100_000);
  });

  it("are stored as pbkdf2_sha256$100000$salt$hash with a salt of their own", async () => {
    const a = await signUp();
    const b = await signUp();
    const rows = await env.DB.prepare("SELECT password_hash FROM users WHERE id IN (?, ?)").bind(a.id, b.id).all<{ password_hash: string }>();
    const hashes = rows.results.map((r) => r.password_hash);
    for (const hash of hashes) expect(hash).toMatch(/^pbkdf2_sha256\$100000\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(hashes[0]!.split("$")[2]).not.toBe(hashes[1]!.split("$")[2]);
  });

  it("verify the right password and reject a wrong one", async () => {
    const stored = await hashPassword("the right password");
    expect(await verifyPassword("the right password", stored)).toBe(true);
    expect(await verifyPassword("the wrong password", stored)).toBe(false);
  });

  it("refuse a stored hash whose iteration count is above the ceiling, even when it matches", async () => {
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode("pw"), "PBKDF2", false, ["deriveBits"]);
    const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: 100_001 }, key, 256);
    const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
    const crafted = `pbkdf2_sha256$100001$${b64(salt)}$${b64(new Uint8Array(bits))}`;
    expect(await verifyPassword("pw", crafted)).toBe(false);
  });

  it("reject malformed stored hashes without throwing", async () => {
    for (const stored of ["", "md5$1$a$b", "pbkdf2_sha256$abc$a$b", "pbkdf2_sha256$1000$%%%$%%%", "pbkdf2_sha256$0$a$b"]) {
      expect(await verifyPassword("pw", stored)).toBe(false);
    }
  });

  it("authenticate by email in any letter case, and not an unknown email", async () => {
    const user = await signUp();
    const db = database(env.DB);
    expect((await authenticate(db, user.email.toUpperCase(), user.password))?.id).toBe(user.id);
    expect(await authenticate(db, user.email, "not the password")).toBeNull();
    expect(await authenticate(db, "nobody@example.com", user.password)).toBeNull();
  });

  it("do not authenticate an inactive user", async () => {
    const user = await signUp();
    await env.DB.prepare("UPDATE users SET is_active = 0 WHERE id = ?").bind(user.id).run();
    expect(await authenticate(database(env.DB), user.email, user.password)).toBeNull();
  });
});
