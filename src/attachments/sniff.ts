// What a file is, from its first bytes: the types Hey serves as themselves, each with its signature. A
// declared type is kept only when the bytes carry its signature; anything else becomes a download.

export const OCTET_STREAM = "application/octet-stream";

/** How many leading bytes the checks (and the image sizes) read. */
export const HEAD_BYTES = 64 * 1024;

const ascii = (bytes: Uint8Array, at: number, text: string) => [...text].every((c, i) => bytes[at + i] === c.charCodeAt(0));
const startsWith = (bytes: Uint8Array, signature: number[]) => signature.every((b, i) => bytes[i] === b);

/** Does `text` decode as UTF-8 with no NUL? (A cut at the end of the head may split one character.) */
function isText(head: Uint8Array, whole: boolean): boolean {
  if (head.includes(0)) return false;
  try {
    new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(whole ? head : head.subarray(0, Math.max(0, head.length - 3)));
    return true;
  } catch {
    return false;
  }
}

const SIGNATURES: Record<string, (head: Uint8Array, whole: boolean) => boolean> = {
  "image/png": (h) => startsWith(h, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  "image/jpeg": (h) => startsWith(h, [0xff, 0xd8, 0xff]),
  "image/gif": (h) => ascii(h, 0, "GIF87a") || ascii(h, 0, "GIF89a"),
  "image/webp": (h) => ascii(h, 0, "RIFF") && ascii(h, 8, "WEBP"),
  "application/pdf": (h) => ascii(h, 0, "%PDF-"),
  "text/plain": isText,
  "audio/mpeg": (h) => ascii(h, 0, "ID3") || (h[0] === 0xff && ((h[1] ?? 0) & 0xe0) === 0xe0),
  "audio/ogg": (h) => ascii(h, 0, "OggS"),
  "audio/wav": (h) => ascii(h, 0, "RIFF") && ascii(h, 8, "WAVE"),
  "video/mp4": (h) => ascii(h, 4, "ftyp"),
  "video/webm": (h) => startsWith(h, [0x1a, 0x45, 0xdf, 0xa3]),
};

export const SERVED_TYPES = Object.keys(SIGNATURES);

/** The type to store: the declared one (without parameters) if the bytes carry its signature, else octet-stream. */
export function storedType(declared: string | undefined, head: Uint8Array, whole: boolean): string {
  const type = (declared ?? "").split(";")[0]!.trim().toLowerCase();
  return SIGNATURES[type]?.(head, whole) ? type : OCTET_STREAM;
}

const u16be = (b: Uint8Array, at: number) => ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
const u16le = (b: Uint8Array, at: number) => (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
const u24le = (b: Uint8Array, at: number) => u16le(b, at) | ((b[at + 2] ?? 0) << 16);
const u32be = (b: Uint8Array, at: number) => ((u16be(b, at) << 16) >>> 0) + u16be(b, at + 2);

export type Size = { width: number; height: number };

/** An image's pixel size when its header (within the head) says it; null otherwise. */
export function imageSize(type: string, h: Uint8Array): Size | null {
  const size = (width: number, height: number) => (width > 0 && height > 0 ? { width, height } : null);
  switch (type) {
    case "image/png":
      return ascii(h, 12, "IHDR") ? size(u32be(h, 16), u32be(h, 20)) : null;
    case "image/gif":
      return size(u16le(h, 6), u16le(h, 8));
    case "image/webp":
      if (ascii(h, 12, "VP8X")) return size(u24le(h, 24) + 1, u24le(h, 27) + 1);
      if (ascii(h, 12, "VP8L") && h[20] === 0x2f) return size((u16le(h, 21) & 0x3fff) + 1, (((u16le(h, 22) >> 6) | ((h[24] ?? 0) << 10)) & 0x3fff) + 1);
      if (ascii(h, 12, "VP8 ")) return size(u16le(h, 26) & 0x3fff, u16le(h, 28) & 0x3fff);
      return null;
    case "image/jpeg":
      return jpegSize(h);
    default:
      return null;
  }
}

/** Walks the JPEG segments to the first start-of-frame (SOF0–SOF15 but DHT, JPG and DAC). */
function jpegSize(h: Uint8Array): Size | null {
  let at = 2;
  while (at + 9 < h.length) {
    if (h[at] !== 0xff) return null;
    const marker = h[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const height = u16be(h, at + 5);
      const width = u16be(h, at + 7);
      return width > 0 && height > 0 ? { width, height } : null;
    }
    at += 2 + u16be(h, at + 2);
  }
  return null;
}
