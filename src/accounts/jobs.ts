// Jobs on the `hey-accounts` queue (wrangler.toml): work on an account too long for one request, a bounded
// step per job, each queueing the next. JSON, so a job is readable in the dashboard.

/**
 * A deleted account's conversations: first those it is still a member of (from the main database), then,
 * shard by shard, those where it has messages left; `after` is the last conversation id done.
 */
export type EraseJob = { kind: "erase"; user_id: number; stage: "members" | "messages"; shard: number; after: number };

/** A data export's next part: the head, then each shard's messages, then each shard's reactions; `after` is a cursor. */
export type ExportJob = { kind: "export"; export_id: string; user_id: number; stage: "head" | "messages" | "reactions"; shard: number; after: ExportCursor };

/** Where a messages stage left off (conversation, then seq); a reactions stage uses the conversation and message row id. */
export type ExportCursor = [number, number];

export type AccountJob = EraseJob | ExportJob;

export async function enqueueAccountJob(queue: Queue, job: AccountJob): Promise<void> {
  await queue.send(job, { contentType: "json" });
}
