import { z } from "@hono/zod-openapi";

const base64url = (what: string, bytes: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, `Expected ${what} in base64url.`)
    .refine((v) => Math.floor((v.replace(/=+$/, "").length * 3) / 4) === bytes, `Expected ${what} of ${bytes} bytes.`);

export const NewPushSubscriptionSchema = z
  .object({
    endpoint: z.string().max(2048).openapi({ description: "The push service URL the browser gave (https)." }),
    expirationTime: z.number().nullable().optional().openapi({ description: "As the browser gives it; not used." }),
    keys: z
      .object({
        p256dh: base64url("an uncompressed P-256 public key", 65),
        auth: base64url("an authentication secret", 16),
      })
      .strict(),
  })
  .strict()
  .openapi("NewPushSubscription", { description: "A browser's `PushSubscription.toJSON()`." });

export const PushSubscriptionSchema = z
  .object({ id: z.string(), endpoint: z.string(), created_at: z.iso.datetime() })
  .openapi("PushSubscription");

export const PushKeySchema = z
  .object({ public_key: z.string().openapi({ description: "The VAPID public key: `applicationServerKey` for `pushManager.subscribe`." }) })
  .openapi("PushKey");

export const SubscriptionIdParam = z.object({ id: z.string().regex(/^ps_[A-Za-z0-9]{1,64}$/, "Expected a subscription id such as ps_….").openapi({ param: { name: "id", in: "path" } }) });
