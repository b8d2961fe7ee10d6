// An upload's bytes, streamed into R2 as they arrive: never held whole in memory. Its SHA-256 and its
// first bytes (for the type check and image sizes) are taken on the way.
import { encodeHexLowerCase } from "@oslojs/encoding";
import { HEAD_BYTES } from "./sniff";

/**
 * Bytes passed on at a time: a request body arrives in pieces of a few KiB, and each piece through the
 * JavaScript tap costs a round of promises, so pieces are gathered into blocks first.
 */
const BLOCK_BYTES = 64 * 1024;

/** Stores `length` bytes of `body` under `key`; a body that is longer or shorter fails (and stores nothing). */
export async function streamToBucket(bucket: R2Bucket, key: string, body: ReadableStream<Uint8Array>, length: number): Promise<{ head: Uint8Array; sha256: string }> {
  const digest = new crypto.DigestStream("SHA-256");
  const hashing = digest.getWriter();
  // Awaited only once stored: a failed upload must not leave its rejection unhandled.
  const digested = digest.digest;
  digested.catch(() => undefined);
  const head = new Uint8Array(Math.min(HEAD_BYTES, length));
  let filled = 0;
  let block = new Uint8Array(BLOCK_BYTES);
  let used = 0;
  const pass = async (bytes: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>) => {
    await hashing.write(bytes);
    controller.enqueue(bytes);
  };
  const tap = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      if (filled < head.length) {
        const n = Math.min(head.length - filled, chunk.length);
        head.set(chunk.subarray(0, n), filled);
        filled += n;
      }
      for (let at = 0; at < chunk.length; ) {
        const n = Math.min(BLOCK_BYTES - used, chunk.length - at);
        block.set(chunk.subarray(at, at + n), used);
        used += n;
        at += n;
        if (used === BLOCK_BYTES) {
          await pass(block, controller);
          block = new Uint8Array(BLOCK_BYTES);
          used = 0;
        }
      }
    },
    async flush(controller) {
      if (used > 0) await pass(block.subarray(0, used), controller);
      await hashing.close();
    },
  });
  // R2 needs the length up front: FixedLengthStream states it, and errors if the body disagrees.
  await bucket.put(key, body.pipeThrough(tap).pipeThrough(new FixedLengthStream(length)));
  return { head, sha256: encodeHexLowerCase(new Uint8Array(await digested)) };
}
