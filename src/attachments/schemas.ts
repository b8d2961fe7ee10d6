import { z } from "@hono/zod-openapi";

export const AttachmentSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    content_type: z.string().openapi({ description: "As declared when its bytes carry the type's signature; otherwise application/octet-stream." }),
    size: z.int(),
    sha256: z.string().openapi({ description: "Hex SHA-256 of the bytes (also the download's ETag)." }),
    width: z.int().nullable(),
    height: z.int().nullable(),
    created_at: z.iso.datetime(),
  })
  .openapi("Attachment");

export type AttachmentResource = z.infer<typeof AttachmentSchema>;

export const AttachmentId = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, "Not an attachment id.");

/** A file name as uploaded: shown to people and sent back in Content-Disposition. */
export const FileNameSchema = z
  .string()
  .trim()
  .min(1, "Give the file's `name`.")
  .max(255, "A file name is at most 255 characters.")
  .refine((n) => !/[\u0000-\u001f\u007f/\\]/.test(n), "A file name has no control characters and no slashes.");

export const LinksRequest = z.object({ ids: z.array(AttachmentId).min(1).max(100) }).strict().openapi("AttachmentLinksRequest");

export const LinksSchema = z
  .object({ links: z.record(z.string(), z.object({ url: z.string(), expires_at: z.iso.datetime() })) })
  .openapi("AttachmentLinks", { description: "One signed link per attachment the caller can see (the others are absent)." });
