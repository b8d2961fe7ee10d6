import { z } from "@hono/zod-openapi";

export const DeleteAccountSchema = z
  .object({ current_password: z.string().min(1, "Enter your password to delete your account.").max(1024) })
  .strict()
  .openapi("DeleteAccount");

export const DataExportSchema = z
  .object({
    id: z.string(),
    status: z.enum(["pending", "ready"]).openapi({ description: "`pending` while it is being built; `ready` once `url` downloads it." }),
    created_at: z.iso.datetime(),
    ready_at: z.iso.datetime().nullable(),
    expires_at: z.iso.datetime().openapi({ description: "When the export is deleted; ask for a new one after." }),
    size: z.number().int().nullable().openapi({ description: "The document's size in bytes, once ready." }),
    url: z.string().nullable().openapi({ description: "Once ready: a link that downloads the document without a token, good until `url_expires_at`." }),
    url_expires_at: z.iso.datetime().nullable(),
  })
  .openapi("DataExport");

export type DataExport = z.infer<typeof DataExportSchema>;

export const ExportLinkQuery = z.object({ expires: z.coerce.number().int().min(0), signature: z.string().max(128) });
