// A loopback stand-in for a browser's Web Push service: it hands out subscriptions whose keys it holds, checks
// each push request as a real service would (VAPID, RFC 8292; headers, RFC 8030) and decrypts its payload as
// the browser would (aes128gcm, RFC 8291 over RFC 8188), so a test reads what the user would be shown.
import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, randomUUID, verify, type ECDH } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";

/** What `PushSubscription.toJSON()` gives a page, plus the stand-in's id for it. */
export type Subscription = { id: string; endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } };

export type Push = {
  subscription: string;
  headers: IncomingHttpHeaders;
  /** The VAPID public key (`k=`) the request was signed with. */
  vapidKey: string | null;
  /** The decrypted notification, parsed. */
  payload: any;
  /** Why the request was refused (400), or null. */
  error: string | null;
  status: number;
  at: number;
};

export type PushService = {
  url: string;
  received: Push[];
  subscribe: () => Subscription;
  /** From now on answer pushes to this subscription with `status` (e.g. 410: the browser dropped it). */
  answer: (subscription: string, status: number) => void;
  close: () => Promise<void>;
};

const b64url = (b: Buffer) => b.toString("base64url");

/** RFC 8291 §3.4 and RFC 8188 §2: one record, keyed from ECDH with the sender's key in the header and the auth secret. */
export function decryptPush(body: Buffer, ua: ECDH, authSecret: Buffer): Buffer {
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const idLength = body[20]!;
  if (idLength !== 65) throw new Error(`the key id is ${idLength} bytes, not an uncompressed P-256 key (65)`);
  const senderPublic = body.subarray(21, 21 + idLength);
  const record = body.subarray(21 + idLength);
  if (record.length > recordSize) throw new Error(`${record.length} bytes of records with a record size of ${recordSize}: a push message is one record`);
  const ecdhSecret = ua.computeSecret(senderPublic);
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0"), ua.getPublicKey(), senderPublic]);
  const ikm = Buffer.from(hkdfSync("sha256", ecdhSecret, authSecret, keyInfo, 32));
  const cek = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: aes128gcm\0"), 16));
  const nonce = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: nonce\0"), 12));
  const decipher = createDecipheriv("aes-128-gcm", cek, nonce);
  decipher.setAuthTag(record.subarray(-16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, -16)), decipher.final()]);
  // Padding is zeros after a delimiter: 0x02 marks the last (here the only) record.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 0x02) throw new Error("the record does not end with the last-record delimiter 0x02");
  return padded.subarray(0, end);
}

/**
 * RFC 8292 §2–3: `vapid t=<ES256 JWT>, k=<uncompressed P-256 key>`, the JWT signed by k, its `aud` the push
 * resource's origin, `exp` at most 24 h ahead, `sub` a contact. Returns k. `origins`: the accepted audiences.
 */
export function checkVapid(authorization: string | undefined, origins: string[], now = Date.now()): string {
  const match = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+),\s*k=([\w-]+)$/.exec(authorization ?? "");
  if (!match) throw new Error(`Authorization is not "vapid t=…, k=…": ${authorization}`);
  const [, jwt, k] = match as unknown as [string, string, string];
  const [header, claims, signature] = jwt.split(".") as [string, string, string];
  const point = Buffer.from(k, "base64url");
  if (point.length !== 65 || point[0] !== 4) throw new Error("k is not an uncompressed P-256 public key");
  const key = createPublicKey({ key: { kty: "EC", crv: "P-256", x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33)) }, format: "jwk" });
  const ok = verify("sha256", Buffer.from(`${header}.${claims}`), { key, dsaEncoding: "ieee-p1363" }, Buffer.from(signature, "base64url"));
  if (!ok) throw new Error("the JWT's signature does not verify with k");
  const h = JSON.parse(Buffer.from(header, "base64url").toString());
  const c = JSON.parse(Buffer.from(claims, "base64url").toString());
  if (h.alg !== "ES256") throw new Error(`JWT alg ${h.alg}, not ES256`);
  if (!origins.includes(c.aud)) throw new Error(`JWT aud ${c.aud}, not one of ${origins.join(", ")}`);
  const seconds = now / 1000;
  if (!(typeof c.exp === "number" && c.exp > seconds && c.exp <= seconds + 86_400)) throw new Error(`JWT exp ${c.exp} is not within the next 24 hours`);
  if (!/^(mailto:|https:)/.test(String(c.sub))) throw new Error(`JWT sub ${c.sub} is not a mailto: or https: contact`);
  return k;
}

/** RFC 8030 §5.2–5.4 and RFC 8188: the headers a push service requires or checks. */
function checkHeaders(headers: IncomingHttpHeaders): void {
  if (headers["content-encoding"] !== "aes128gcm") throw new Error(`Content-Encoding ${headers["content-encoding"]}, not aes128gcm`);
  if (!/^\d+$/.test(String(headers.ttl ?? ""))) throw new Error(`TTL ${headers.ttl} is not a number of seconds`);
  const topic = headers.topic;
  if (topic !== undefined && !/^[\w-]{1,32}$/.test(topic as string)) throw new Error(`Topic ${topic} is not up to 32 base64url characters`);
  const urgency = headers.urgency;
  if (urgency !== undefined && !["very-low", "low", "normal", "high"].includes(urgency as string)) throw new Error(`Urgency ${urgency} is unknown`);
}

export async function startPushService(): Promise<PushService> {
  const subscriptions = new Map<string, { ua: ECDH; auth: Buffer; status: number }>();
  const received: Push[] = [];
  let origins: string[] = [];

  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer) => {
    const id = /^\/push\/([\w-]+)$/.exec(req.url ?? "")?.[1] ?? "";
    const sub = subscriptions.get(id);
    const push: Push = { subscription: id, headers: req.headers, vapidKey: null, payload: null, error: null, status: 201, at: Date.now() };
    try {
      if (req.method !== "POST") throw new Error(`${req.method}, not POST`);
      if (!sub) throw new Error(`no subscription ${id}`);
      // The server signs a loopback http endpoint as its https twin (its push library signs https endpoints
      // only, as RFC 8030 push resources are), so either scheme of this origin is this service's audience.
      push.vapidKey = checkVapid(req.headers.authorization, origins);
      checkHeaders(req.headers);
      push.payload = JSON.parse(decryptPush(raw, sub.ua, sub.auth).toString("utf8"));
      push.status = sub.status;
    } catch (error) {
      push.error = error instanceof Error ? error.message : String(error);
      push.status = sub ? 400 : 404;
    }
    received.push(push);
    res.writeHead(push.status, push.status === 201 ? { Location: `/message/${randomUUID()}` } : {}).end();
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handle(req, res, Buffer.concat(chunks)));
  });
  const port = await new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
  const url = `http://127.0.0.1:${port}`;
  origins = [url, `https://127.0.0.1:${port}`];

  return {
    url,
    received,
    subscribe: () => {
      const ua = createECDH("prime256v1");
      ua.generateKeys();
      const auth = randomBytes(16);
      const id = randomUUID();
      subscriptions.set(id, { ua, auth, status: 201 });
      return { id, endpoint: `${url}/push/${id}`, expirationTime: null, keys: { p256dh: b64url(ua.getPublicKey()), auth: b64url(auth) } };
    },
    answer: (id, status) => {
      const sub = subscriptions.get(id);
      if (sub) sub.status = status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
