import type { StoredAttachment } from "../db/shard-schema";
import type { AttachmentResource } from "./schemas";

export function toAttachmentResource(a: StoredAttachment): AttachmentResource {
  return { id: a.id, name: a.name, content_type: a.contentType, size: a.size, sha256: a.sha256, width: a.width, height: a.height, created_at: new Date(a.createdAt).toISOString() };
}
