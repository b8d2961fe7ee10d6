// npm run vapid:keys — prints a fresh VAPID key pair (RFC 8292) for Web Push, as wrangler vars.
// Deployed: `wrangler secret put VAPID_PRIVATE_KEY` and VAPID_PUBLIC_KEY in [vars] (with VAPID_SUBJECT, your
// mailto: or https: contact). Locally `npm run dev` writes a pair into .dev.vars (see ensureLocalVapidKeys).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** A P-256 key pair as Web Push wants it: the public key uncompressed (65 bytes), the private scalar (32), base64url. */
export async function vapidKeyPair(): Promise<{ publicKey: string; privateKey: string }> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const publicKey = Buffer.from((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer).toString("base64url");
  const { d } = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  return { publicKey, privateKey: d! };
}

/** Adds a key pair to `file` (a .dev.vars) unless it has one; true when it wrote one. */
export async function ensureLocalVapidKeys(file: string): Promise<boolean> {
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  if (/^VAPID_PRIVATE_KEY=/m.test(text)) return false;
  const { publicKey, privateKey } = await vapidKeyPair();
  const lines = `# Web Push keys for local development, made by npm run dev (kept out of git).\nVAPID_PUBLIC_KEY="${publicKey}"\nVAPID_PRIVATE_KEY="${privateKey}"\n`;
  writeFileSync(file, text && !text.endsWith("\n") ? `${text}\n${lines}` : text + lines);
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { publicKey, privateKey } = await vapidKeyPair();
  console.log(`VAPID_PUBLIC_KEY="${publicKey}"\nVAPID_PRIVATE_KEY="${privateKey}"`);
}
