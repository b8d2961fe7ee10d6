// Helpers for the browser suite: waiting on conditions and reading the app's state from the page.
import { generateKeyPairSync } from "node:crypto";
import type { Page } from "playwright-core";

export type Person = { first: string; last: string; email: string; password: string };

/** Polls `check` until it holds; fails with `what` after `timeoutMs`. */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the signed-in shell shows `name` in its top bar. */
export async function appStarted(page: Page, name: string): Promise<void> {
  await page.locator(".topbar .who", { hasText: name }).waitFor({ timeout: 20_000 });
}

/** The seqs of the messages shown, in page order. */
export function seqsIn(page: Page): Promise<number[]> {
  return page.locator(".timeline .msg[data-seq]").evaluateAll((items) => items.map((li) => Number((li as HTMLElement).dataset.seq)));
}

/** The access token the app holds in `page` (for checking through the API what it did). */
export function tokenOf(page: Page): Promise<string> {
  return page.evaluate(() => (JSON.parse(sessionStorage.getItem("hey.tokens") ?? "{}") as { access_token: string }).access_token);
}

/** A fresh P-256 public key as a browser's push subscription gives it: uncompressed (65 bytes), base64url. */
export function p256PublicKey(): string {
  const { x, y } = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" });
  return Buffer.concat([Buffer.from([4]), Buffer.from(x!, "base64url"), Buffer.from(y!, "base64url")]).toString("base64url");
}

