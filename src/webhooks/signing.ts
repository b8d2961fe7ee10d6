// Webhook signatures: `Hey-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "t.body")>`. No endpoint
// secret is stored: each is derived from a server key, the endpoint's id and its secret version, so the
// database alone yields none (only the derivation key, which stands in D1 as the attachment links' key does).
import { encodeBase64urlNoPadding, encodeHexLowerCase } from "@oslojs/encoding";
import { serverKey } from "../auth/server-keys";
import type { Database } from "../db/client";
import type { WebhookRow } from "../db/schema";

const KEY_NAME = "webhook-secrets";
const encoder = new TextEncoder();

async function hmac(key: CryptoKey, text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(text)));
}

/** The secret of version `version` of an endpoint, as its owner was shown it. */
export async function endpointSecret(db: Database, endpointId: string, version: number): Promise<string> {
  return `whsec_${encodeBase64urlNoPadding(await hmac(await serverKey(db, KEY_NAME), `${endpointId}.${version}`))}`;
}

/** The signature of `body` at `t` with `secret` (the whole `whsec_…` string is the key). */
export async function signature(secret: string, t: number, body: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return encodeHexLowerCase(await hmac(key, `${t}.${body}`));
}

/** The `Hey-Signature` value: the current secret's, and during a rotation's overlap the previous one's too. */
export async function signatureHeader(db: Database, endpoint: Pick<WebhookRow, "id" | "secretVersion" | "previousVersion" | "previousUntil">, t: number, body: string): Promise<string> {
  const versions = [endpoint.secretVersion];
  if (endpoint.previousVersion !== null && endpoint.previousUntil && endpoint.previousUntil.getTime() > Date.now()) versions.push(endpoint.previousVersion);
  const parts = await Promise.all(versions.map(async (v) => `v1=${await signature(await endpointSecret(db, endpoint.id, v), t, body)}`));
  return [`t=${t}`, ...parts].join(",");
}
