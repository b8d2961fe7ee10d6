// An upload's bytes, streamed into R2 as they arrive: never held whole in memory. Its SHA-256 and its
// first bytes (for the type check and image sizes) are taken on the way.
import { encodeHexLowerCase } from "@oslojs/encoding";
import { HEAD_BYTES } from "./sniff";

/** Stores `length` bytes of `body` under `key`; a body that is longer or shorter fails (and stores nothing). */
export async function streamToBucket(bucket: R2Bucket, key: string, body: ReadableStream<Uint8Array>, length: number): Promise<{ head: Uint8Array; sha256: string }> {
  const digest = new crypto.DigestStream("SHA-256");
  const hashing = digest.getWriter();
  // Awaited only once stored: a failed upload must not leave its rejection unhandled.
  const digested = digest.digest;
  digested.catch(() => undefined);
  const head = new Uint8Array(Math.min(HEAD_BYTES, length));
  let filled = 0;
  const tap = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      if (filled < head.length) {
        const n = Math.min(head.length - filled, chunk.length);
        head.set(chunk.subarray(0, n), filled);
        filled += n;
      }
      await hashing.write(chunk);
      controller.enqueue(chunk);
    },
    flush: () => hashing.close(),
  });
  // R2 needs the length up front: FixedLengthStream states it, and errors if the body disagrees.
  await bucket.put(key, body.pipeThrough(tap).pipeThrough(new FixedLengthStream(length)));
  return { head, sha256: encodeHexLowerCase(new Uint8Array(await digested)) };
}
