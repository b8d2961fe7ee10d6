// Keys the Worker makes for itself on first use, kept in D1 (`signing_keys`): nothing to configure, and
// every isolate of a deployment reads the same one.
import { eq } from "drizzle-orm";
import { decodeBase64url, encodeBase64url } from "@oslojs/encoding";
import type { Database } from "../db/client";
import { signingKeys } from "../db/schema";

const cache = new Map<string, Promise<CryptoKey>>();

/** The HMAC-SHA256 key named `name`: the first isolate to need it writes it, all then read the same. */
export function serverKey(db: Database, name: string): Promise<CryptoKey> {
  let key = cache.get(name);
  if (!key) {
    key = (async () => {
      const fresh = encodeBase64url(crypto.getRandomValues(new Uint8Array(32)));
      await db.insert(signingKeys).values({ name, key: fresh }).onConflictDoNothing();
      const [row] = await db.select({ key: signingKeys.key }).from(signingKeys).where(eq(signingKeys.name, name));
      return crypto.subtle.importKey("raw", decodeBase64url(row!.key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    })();
    // A failure is not remembered: the next call tries again.
    key.catch(() => cache.delete(name));
    cache.set(name, key);
  }
  return key;
}
