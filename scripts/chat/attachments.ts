// Files in the terminal client: `/attach` streams one from disk (its type from its extension, as the server
// checks it against the bytes), `/download` saves a message's files with the token, never over a file.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, stat, unlink } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, extname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebStream } from "node:stream/web";
import type { AttachmentResource } from "../../src/attachments/schemas";
import type { Api } from "./api";
import { clean, sizeOf } from "./format";
import type { Screen } from "./screen";

const PROGRESS_EVERY_MS = 100;

/** The types the server serves as themselves (src/attachments/sniff.ts), by extension; others go as octet-stream. */
const TYPES: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".pdf": "application/pdf",
  ".txt": "text/plain",
  ".text": "text/plain",
  ".md": "text/plain",
  ".log": "text/plain",
  ".mp3": "audio/mpeg",
  ".ogg": "audio/ogg",
  ".oga": "audio/ogg",
  ".opus": "audio/ogg",
  ".wav": "audio/wav",
  ".mp4": "video/mp4",
  ".m4v": "video/mp4",
  ".webm": "video/webm",
};

export const typeOf = (path: string) => TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";

/** `~/x` as the home directory's x; the rest relative to the current directory. */
export const expand = (path: string) => resolve(path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path);

/**
 * Uploads the file at `path` to the conversation, read from disk as it goes (never whole in memory);
 * `progress` hears the bytes read so far (the socket's buffer keeps that close to the bytes sent).
 */
export async function uploadFile(api: Api, conversationId: string, path: string, progress: (sent: number, total: number) => void): Promise<AttachmentResource> {
  const file = expand(path);
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    throw new Error(error.code === "ENOENT" ? `There is no file ${path}.` : `Cannot read ${path}: ${error.message}`);
  });
  if (!info.isFile()) throw new Error(`${path} is not a file.`);
  progress(0, info.size);
  const body = () => {
    let sent = 0;
    const counted = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        sent += chunk.byteLength;
        progress(sent, info.size);
        controller.enqueue(chunk);
      },
    });
    return (Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>).pipeThrough(counted);
  };
  return api.upload(conversationId, { name: basename(file), type: typeOf(file), size: info.size, body });
}

/**
 * An upload's progress on one line: before the prompt on a terminal (bytes sent / total, redrawn at most
 * every 100 ms), else one notice. `done` clears it.
 */
export function progressLine(screen: Screen, path: string): { update(sent: number, total: number): void; done(): void } {
  const name = basename(path);
  let shownAt = 0;
  return {
    update(sent, total) {
      if (!screen.tty) return void (sent === 0 && screen.notice(`uploading ${clean(name)} (${sizeOf(total)})…`));
      if (sent < total && Date.now() - shownAt < PROGRESS_EVERY_MS) return;
      shownAt = Date.now();
      screen.setProgress(`uploading ${clean(name)}: ${sizeOf(sent)} / ${sizeOf(total)}`);
    },
    done: () => screen.setProgress(""),
  };
}

/**
 * Saves an attachment into `dir` (made if missing) under its own name, or `name (1).ext`… when that is
 * taken; answers the path. The bytes are checked against the attachment's SHA-256, else nothing is kept.
 */
export async function saveAttachment(api: Api, attachment: AttachmentResource, dir: string): Promise<string> {
  const folder = expand(dir);
  await mkdir(folder, { recursive: true });
  const res = await api.download(attachment.id);
  // The server allows no slashes or control characters in a name; a leading dot (`..`, hidden files) goes too.
  const name = basename(clean(attachment.name)).replace(/^\.+/, "") || attachment.id;
  const { path, handle } = await claim(folder, name).catch((error: unknown) => {
    void res.body?.cancel();
    throw error;
  });
  try {
    const hash = createHash("sha256");
    const hashed = async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        hash.update(chunk);
        yield chunk;
      }
    };
    await pipeline(Readable.fromWeb(res.body as WebStream<Uint8Array>), hashed, handle.createWriteStream());
    if (hash.digest("hex") !== attachment.sha256) throw new Error(`${attachment.name} arrived damaged (its SHA-256 differs); nothing was saved.`);
    return path;
  } catch (error) {
    await handle.close().catch(() => {});
    await unlink(path).catch(() => {});
    throw error;
  }
}

/** Creates `name` in `folder`, or the first free `name (n).ext`: exclusive creation, so no file is overwritten. */
async function claim(folder: string, name: string) {
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let n = 0; ; n++) {
    const path = join(folder, n ? `${stem} (${n})${ext}` : name);
    try {
      return { path, handle: await open(path, "wx") };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}
