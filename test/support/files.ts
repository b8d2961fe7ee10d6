// Small files built byte by byte for the attachment tests: images whose headers say their pixel size
// (a PNG a viewer can open, with real CRCs and a zlib stream), and the signatures of the other types Hey
// serves as themselves.

const bytes = (...parts: (number[] | Uint8Array | string)[]) => {
  const arrays = parts.map((p) => (typeof p === "string" ? new TextEncoder().encode(p) : p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
};
export { bytes as concat };

const be32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const be16 = (n: number) => [(n >>> 8) & 0xff, n & 0xff];
const le16 = (n: number) => [n & 0xff, (n >>> 8) & 0xff];
const le24 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff];
const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zlib stream of `data` in stored (uncompressed) deflate blocks. */
function zlibStored(data: Uint8Array): Uint8Array {
  const blocks: number[][] = [];
  for (let at = 0; at < data.length || blocks.length === 0; at += 65535) {
    const part = data.subarray(at, at + 65535);
    const last = at + 65535 >= data.length ? 1 : 0;
    blocks.push([last, ...le16(part.length), ...le16(~part.length & 0xffff), ...part]);
  }
  let a = 1;
  let b = 0;
  for (const x of data) {
    a = (a + x) % 65521;
    b = (b + a) % 65521;
  }
  return bytes([0x78, 0x01], ...blocks, be32(((b << 16) | a) >>> 0));
}

function pngChunk(type: string, data: Uint8Array | number[]): Uint8Array {
  const body = bytes(type, data);
  return bytes(be32(body.length - 4), body, be32(crc32(body)));
}

export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A valid RGB PNG of `width` × `height` (a red-to-blue gradient). */
export function png(width: number, height: number): Uint8Array {
  const rows: number[] = [];
  for (let y = 0; y < height; y++) {
    rows.push(0); // filter: none
    for (let x = 0; x < width; x++) rows.push((x * 40) & 0xff, (y * 60) & 0xff, 200);
  }
  return bytes(
    PNG_SIGNATURE,
    pngChunk("IHDR", [...be32(width), ...be32(height), 8, 2, 0, 0, 0]),
    pngChunk("IDAT", zlibStored(Uint8Array.from(rows))),
    pngChunk("IEND", []),
  );
}

/** A GIF89a with a `width` × `height` logical screen holding one white pixel. */
export function gif(width: number, height: number, version: "87a" | "89a" = "89a"): Uint8Array {
  return bytes(
    `GIF${version}`,
    [...le16(width), ...le16(height), 0x80, 0, 0], // global color table of 2
    [0xff, 0xff, 0xff, 0, 0, 0],
    [0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0], // image descriptor: 1 × 1 at 0, 0
    [0x02, 0x02, 0x44, 0x01, 0x00], // LZW data
    [0x3b],
  );
}

function jpegSegment(marker: number, payload: Uint8Array | number[]): Uint8Array {
  const p = payload instanceof Uint8Array ? payload : Uint8Array.from(payload);
  return bytes([0xff, marker], be16(p.length + 2), p);
}

/**
 * A JPEG's header as cameras write it: SOI, APP0 (JFIF), optionally APP1 (Exif, `exifBytes` long) and a
 * DHT, a DQT, then the frame (`sof`, baseline by default) saying `width` × `height`, then SOS and EOI.
 */
export function jpeg(width: number, height: number, options: { sof?: number; exifBytes?: number; dhtFirst?: boolean } = {}): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.from([0xff, 0xd8])];
  parts.push(jpegSegment(0xe0, bytes("JFIF\0", [1, 1, 0, 0, 1, 0, 1, 0, 0])));
  if (options.exifBytes) parts.push(jpegSegment(0xe1, bytes("Exif\0\0", new Uint8Array(options.exifBytes).fill(0x2a))));
  // A huffman table (0xC4 is among the SOF-range markers, but is no frame).
  if (options.dhtFirst) parts.push(jpegSegment(0xc4, bytes([0x00], new Uint8Array(16).fill(0), [])));
  parts.push(jpegSegment(0xdb, bytes([0x00], new Uint8Array(64).fill(1))));
  parts.push(jpegSegment(options.sof ?? 0xc0, [8, ...be16(height), ...be16(width), 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]));
  parts.push(jpegSegment(0xda, [3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0]));
  parts.push(Uint8Array.from([0x00, 0x00, 0xff, 0xd9]));
  return bytes(...parts);
}

function riff(form: string, chunkType: string, chunk: number[] | Uint8Array): Uint8Array {
  const body = bytes(form, chunkType, le32(chunk.length), chunk, chunk.length % 2 ? [0] : []);
  return bytes("RIFF", le32(body.length), body);
}

/** A lossy WebP ("VP8 ") frame header saying `width` × `height`. */
export function webpLossy(width: number, height: number): Uint8Array {
  return riff("WEBP", "VP8 ", [0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, ...le16(width & 0x3fff), ...le16(height & 0x3fff), ...new Array(8).fill(0)]);
}

/** A lossless WebP ("VP8L"): 14 bits width - 1, 14 bits height - 1, alpha, version. */
export function webpLossless(width: number, height: number): Uint8Array {
  const packed = ((width - 1) & 0x3fff) | (((height - 1) & 0x3fff) << 14) | (1 << 28);
  return riff("WEBP", "VP8L", [0x2f, ...le32(packed >>> 0), 0, 0, 0]);
}

/** An extended WebP ("VP8X"): 24-bit canvas width - 1 and height - 1. */
export function webpExtended(width: number, height: number): Uint8Array {
  return riff("WEBP", "VP8X", [0x10, 0, 0, 0, ...le24(width - 1), ...le24(height - 1)]);
}

/** A tiny PDF. */
export const pdf = () => new TextEncoder().encode("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");

/** The signatures of the other types Hey keeps as declared. */
export const SIGNED = {
  "application/pdf": pdf(),
  "text/plain": new TextEncoder().encode("Grüße aus Köln ✓\n"),
  "audio/mpeg": bytes("ID3", [4, 0, 0, 0, 0, 0, 0], [0xff, 0xfb, 0x90, 0x64]),
  "audio/ogg": bytes("OggS", [0, 2], new Uint8Array(22)),
  "audio/wav": riff("WAVE", "fmt ", [1, 0, 1, 0, ...le32(8000), ...le32(8000), 1, 0, 8, 0]),
  "video/mp4": bytes(be32(24), "ftypisom", be32(0x200), "isomiso2"),
  "video/webm": bytes([0x1a, 0x45, 0xdf, 0xa3], [0x9f, 0x42, 0x86, 0x81, 0x01]),
} as const;

/** Hex SHA-256 of `data`. */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", data))].map((b) => b.toString(16).padStart(2, "0")).join("");
}
