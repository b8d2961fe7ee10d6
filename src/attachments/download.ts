// An attachment's bytes as a response: conditional and ranged requests, and headers that keep an
// uploaded page or script from ever running as this origin.
import type { AttachmentRow } from "../db/schema";
import { problemResponse } from "../http/problem";

/** `inline` only for images, which browsers cannot run; everything else downloads. */
function disposition(row: AttachmentRow): string {
  const kind = row.contentType.startsWith("image/") ? "inline" : "attachment";
  const ascii = row.name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  // RFC 8187 allows fewer characters unencoded than encodeURIComponent leaves: ' ( ) * are not among them.
  const encoded = encodeURIComponent(row.name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` as an R2 range; null for none or several; "bad" when unsatisfiable. */
function rangeOf(header: string | undefined, size: number): { offset: number; length: number } | null | "bad" {
  const m = header && /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;
  if (m[1] === "") {
    const length = Math.min(Number(m[2]), size);
    return length > 0 ? { offset: size - length, length } : "bad";
  }
  const offset = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  return offset < size && end >= offset ? { offset, length: end - offset + 1 } : "bad";
}

export async function download(bucket: R2Bucket, row: AttachmentRow, request: { header(name: string): string | undefined }): Promise<Response> {
  const etag = `"${row.sha256}"`;
  const headers = new Headers({
    ETag: etag,
    "Cache-Control": "private, max-age=3600",
    "Content-Type": row.contentType,
    "Content-Disposition": disposition(row),
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Accept-Ranges": "bytes",
  });
  if (request.header("If-None-Match")?.split(",").some((t) => t.trim() === etag || t.trim() === "*")) return new Response(null, { status: 304, headers });
  const range = rangeOf(request.header("Range"), row.size);
  if (range === "bad") return problemResponse(416, `The range is outside the file's ${row.size} bytes.`, { headers: { "Content-Range": `bytes */${row.size}` } });
  const object = await bucket.get(row.id, range ? { range } : {});
  if (!object) return problemResponse(404, "No such attachment.");
  headers.set("Content-Length", String(range ? range.length : row.size));
  if (range) headers.set("Content-Range", `bytes ${range.offset}-${range.offset + range.length - 1}/${row.size}`);
  return new Response(object.body, { status: range ? 206 : 200, headers });
}
