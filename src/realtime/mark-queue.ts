import { shardWriteSession, type WrittenBookmarks } from "../db/sessions";
import type { Shard } from "../db/shards";
import type { MarkResult, MarkWrite } from "../messages/store";

type Queued = { build: (shard: Shard) => MarkWrite; resolve: (done: MarkResult & { bookmarks: WrittenBookmarks }) => void; reject: (error: unknown) => void };

/**
 * A room's reactions and pins, written in group commits as its sends are: while one batch is on the
 * shard, later marks wait and go together in the next, so a burst of reactions to a popular message
 * costs a few round trips, not one each. Each mark's statements are built on the batch's own session.
 */
export class MarkQueue {
  #queue: Queued[] = [];
  #flushing = false;

  constructor(
    private readonly env: Cloudflare.Env,
    private readonly shardIndex: () => number,
  ) {}

  write(build: (shard: Shard) => MarkWrite): Promise<MarkResult & { bookmarks: WrittenBookmarks }> {
    const done = new Promise<MarkResult & { bookmarks: WrittenBookmarks }>((resolve, reject) => this.#queue.push({ build, resolve, reject }));
    if (!this.#flushing) void this.#drain();
    return done;
  }

  async #drain(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#queue.length) {
        const batch = this.#queue.splice(0);
        const { shard, written } = shardWriteSession(this.env, this.shardIndex());
        const writes = batch.map((q) => q.build(shard));
        try {
          const results = await shard.db.batch(writes.flatMap((w) => w.statements) as [MarkWrite["statements"][0]]);
          const bookmarks = written();
          let at = 0;
          writes.forEach((w, i) => {
            batch[i]!.resolve({ ...w.outcome(results.slice(at, at + w.statements.length)), bookmarks });
            at += w.statements.length;
          });
        } catch (error) {
          for (const q of batch) q.reject(error);
        }
      }
    } finally {
      this.#flushing = false;
    }
  }
}
