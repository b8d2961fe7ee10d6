// An export's document, streamed from its parts in R2: the head, then the messages and the reactions, each
// section's parts joined by commas, with its length known up front (a download shows its progress).
import { signLink, checkLink } from "../auth/signed-links";
import type { Database } from "../db/client";
import type { ExportPart } from "../db/schema";

const KEY_NAME = "export-links";
/** How long a download link works; asking for the export again gives a new one. */
export const EXPORT_LINK_SECONDS = 3600;

export async function exportLink(db: Database, exportId: string) {
  const { query, expires_at } = await signLink(db, KEY_NAME, exportId, EXPORT_LINK_SECONDS);
  return { url: `/api/exports/${exportId}/?${query}`, expires_at };
}

export const checkExportLink = (db: Database, exportId: string, expires: number, sig: string) => checkLink(db, KEY_NAME, exportId, expires, sig);

type Piece = string | ExportPart;

/** The document as pieces: fixed text between the parts. */
function pieces(parts: ExportPart[]): Piece[] {
  const section = (name: ExportPart["section"]) => parts.filter((p) => p.section === name).flatMap((p, i) => (i ? [",", p] : [p]));
  return [...section("head"), ',"messages":[', ...section("messages"), '],"reactions":[', ...section("reactions"), "]}"];
}

const encoder = new TextEncoder();

const lengthOf = (all: Piece[]) => all.reduce((n, p) => n + (typeof p === "string" ? encoder.encode(p).byteLength : p.size), 0);

/** The document's size in bytes. */
export const documentLength = (parts: ExportPart[]) => lengthOf(pieces(parts));

export function exportDocument(bucket: R2Bucket, parts: ExportPart[]): { body: ReadableStream<Uint8Array>; length: number } {
  const all = pieces(parts);
  const length = lengthOf(all);
  const { readable, writable } = new FixedLengthStream(length);
  const write = async () => {
    for (const piece of all) {
      if (typeof piece === "string") {
        const writer = writable.getWriter();
        await writer.write(encoder.encode(piece));
        writer.releaseLock();
        continue;
      }
      const object = await bucket.get(piece.key);
      if (!object) throw new Error(`export part ${piece.key} is missing`);
      await object.body.pipeTo(writable, { preventClose: true });
    }
    await writable.close();
  };
  // A failure mid-way aborts the stream, so the client sees a short download rather than a wrong document.
  write().catch((error: unknown) => writable.abort(error));
  return { body: readable, length };
}
