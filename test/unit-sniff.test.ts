// What an upload is, from its first bytes (src/attachments/sniff.ts): the declared type is kept only when
// the bytes carry its signature (otherwise the file is a download, application/octet-stream), and images
// say their pixel size from their headers.
import { describe, expect, it } from "vitest";
import { HEAD_BYTES, imageSize, OCTET_STREAM, SERVED_TYPES, storedType } from "../src/attachments/sniff";
import { concat, gif, jpeg, png, SIGNED, webpExtended, webpLossless, webpLossy } from "./support/files";

const text = (s: string) => new TextEncoder().encode(s);

/** Each served type with bytes carrying its signature. */
const SAMPLES: Record<string, Uint8Array> = {
  "image/png": png(3, 2),
  "image/jpeg": jpeg(640, 480, { exifBytes: 100 }),
  "image/gif": gif(5, 4),
  "image/webp": webpLossy(16, 9),
  ...SIGNED,
};

describe("storedType", () => {
  it("has a sample here for every type it serves as itself", () => {
    expect(Object.keys(SAMPLES).sort()).toEqual([...SERVED_TYPES].sort());
  });

  it.each(Object.entries(SAMPLES))("keeps %s when the bytes carry its signature", (type, bytes) => {
    expect(storedType(type, bytes, true)).toBe(type);
  });

  it("reads the declared type without its parameters and in any case", () => {
    expect(storedType("text/plain; charset=utf-8", SIGNED["text/plain"], true)).toBe("text/plain");
    expect(storedType("IMAGE/PNG", png(1, 1), true)).toBe("image/png");
    expect(storedType("  application/pdf ;x=y", SIGNED["application/pdf"], true)).toBe("application/pdf");
  });

  it("keeps the other RIFF and image variants: GIF87a, WebP lossless and extended, a progressive JPEG", () => {
    expect(storedType("image/gif", gif(2, 2, "87a"), true)).toBe("image/gif");
    expect(storedType("image/webp", webpLossless(2, 2), true)).toBe("image/webp");
    expect(storedType("image/webp", webpExtended(2, 2), true)).toBe("image/webp");
    expect(storedType("image/jpeg", jpeg(2, 2, { sof: 0xc2 }), true)).toBe("image/jpeg");
    expect(storedType("audio/mpeg", Uint8Array.from([0xff, 0xfb, 0x90, 0x64, 0, 0]), true)).toBe("audio/mpeg");
  });

  it.each(Object.keys(SAMPLES))("makes a file declared %s a download when its bytes are another type's", (type) => {
    // Another served type's bytes: the declared type is a lie either way.
    const other = type === "image/png" ? SAMPLES["image/gif"]! : SAMPLES["image/png"]!;
    expect(storedType(type, other, true)).toBe(OCTET_STREAM);
  });

  it("tells RIFF forms apart: WAVE bytes are no WebP, WebP bytes no WAV", () => {
    expect(storedType("image/webp", SIGNED["audio/wav"], true)).toBe(OCTET_STREAM);
    expect(storedType("audio/wav", webpLossy(2, 2), true)).toBe(OCTET_STREAM);
  });

  it("makes a type it does not serve a download whatever the bytes (HTML, SVG, JavaScript, none at all)", () => {
    expect(storedType("text/html", text("<!doctype html><script>alert(1)</script>"), true)).toBe(OCTET_STREAM);
    expect(storedType("image/svg+xml", text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), true)).toBe(OCTET_STREAM);
    expect(storedType("application/javascript", text("alert(1)"), true)).toBe(OCTET_STREAM);
    expect(storedType(undefined, png(1, 1), true)).toBe(OCTET_STREAM);
    expect(storedType("", png(1, 1), true)).toBe(OCTET_STREAM);
    expect(storedType(OCTET_STREAM, png(1, 1), true)).toBe(OCTET_STREAM);
  });

  it("keeps text/plain only for UTF-8 without NUL", () => {
    expect(storedType("text/plain", text("plain ASCII\r\n"), true)).toBe("text/plain");
    expect(storedType("text/plain", Uint8Array.from([0x68, 0x69, 0x00, 0x21]), true)).toBe(OCTET_STREAM);
    expect(storedType("text/plain", Uint8Array.from([0x68, 0xc3, 0x28]), true)).toBe(OCTET_STREAM); // invalid UTF-8
    expect(storedType("text/plain", Uint8Array.from([0xff, 0xfe, 0x68, 0x00]), true)).toBe(OCTET_STREAM); // UTF-16
    expect(storedType("text/plain", png(1, 1), true)).toBe(OCTET_STREAM);
  });

  it("forgives a character cut at the end of the head of a longer file, not at the end of a whole one", () => {
    // "é" is C3 A9: a head ending after C3 is the start of a longer file's character.
    const cut = concat(new Uint8Array(HEAD_BYTES - 1).fill(0x61), [0xc3]);
    expect(storedType("text/plain", cut, false)).toBe("text/plain");
    expect(storedType("text/plain", cut, true)).toBe(OCTET_STREAM);
  });
});

describe("imageSize", () => {
  it("reads a PNG's IHDR", () => {
    expect(imageSize("image/png", png(3, 2))).toEqual({ width: 3, height: 2 });
    expect(imageSize("image/png", png(1, 1))).toEqual({ width: 1, height: 1 });
  });

  it("reads a large PNG's 32-bit size", () => {
    // Only the header matters: a 70,000 × 40,000 IHDR (no pixels follow).
    const head = png(1, 1);
    head.set([0, 1, 0x11, 0x70, 0, 0, 0x9c, 0x40], 16);
    expect(imageSize("image/png", head)).toEqual({ width: 70_000, height: 40_000 });
  });

  it("reads a GIF's logical screen, 87a and 89a", () => {
    expect(imageSize("image/gif", gif(5, 4))).toEqual({ width: 5, height: 4 });
    expect(imageSize("image/gif", gif(300, 513, "87a"))).toEqual({ width: 300, height: 513 });
  });

  it("finds a JPEG's frame after its APP0, an Exif APP1, a DHT and a DQT", () => {
    expect(imageSize("image/jpeg", jpeg(640, 480))).toEqual({ width: 640, height: 480 });
    expect(imageSize("image/jpeg", jpeg(4032, 3024, { exifBytes: 2000, dhtFirst: true }))).toEqual({ width: 4032, height: 3024 });
  });

  it("reads progressive (SOF2) and other frame types, but not DHT, JPG or DAC as frames", () => {
    expect(imageSize("image/jpeg", jpeg(800, 600, { sof: 0xc2 }))).toEqual({ width: 800, height: 600 });
    expect(imageSize("image/jpeg", jpeg(17, 9, { sof: 0xc1 }))).toEqual({ width: 17, height: 9 });
  });

  it("skips fill bytes (0xFF 0xFF…) between JPEG segments", () => {
    const plain = jpeg(32, 24);
    // After SOI: two fill bytes before APP0's marker.
    const filled = concat(plain.subarray(0, 2), [0xff, 0xff], plain.subarray(2));
    expect(imageSize("image/jpeg", filled)).toEqual({ width: 32, height: 24 });
  });

  it("has no JPEG size when the frame lies beyond the head, or the bytes are not segments", () => {
    const big = jpeg(100, 100, { exifBytes: 60_000 });
    expect(imageSize("image/jpeg", big.subarray(0, 1000))).toBeNull();
    expect(imageSize("image/jpeg", concat([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10], new Uint8Array(3), [0x12, 0x34], new Uint8Array(20)))).toBeNull();
  });

  it("reads WebP's three forms: lossy VP8, lossless VP8L and extended VP8X", () => {
    expect(imageSize("image/webp", webpLossy(16, 9))).toEqual({ width: 16, height: 9 });
    expect(imageSize("image/webp", webpLossy(16383, 1))).toEqual({ width: 16383, height: 1 });
    expect(imageSize("image/webp", webpLossless(1, 1))).toEqual({ width: 1, height: 1 });
    expect(imageSize("image/webp", webpLossless(1234, 567))).toEqual({ width: 1234, height: 567 });
    expect(imageSize("image/webp", webpLossless(16384, 16384))).toEqual({ width: 16384, height: 16384 });
    expect(imageSize("image/webp", webpExtended(1, 1))).toEqual({ width: 1, height: 1 });
    expect(imageSize("image/webp", webpExtended(20_000, 70_000))).toEqual({ width: 20_000, height: 70_000 });
  });

  it("has no size for other types, nor for a zero-sized header", () => {
    expect(imageSize("application/pdf", SIGNED["application/pdf"])).toBeNull();
    expect(imageSize(OCTET_STREAM, png(3, 2))).toBeNull();
    expect(imageSize("image/gif", gif(0, 4))).toBeNull();
    expect(imageSize("image/jpeg", jpeg(0, 10))).toBeNull();
    expect(imageSize("image/webp", webpLossy(0, 3))).toBeNull();
  });
});
