import { DurableObject } from "cloudflare:workers";

/** One per conversation: orders its messages and holds its WebSockets (built out by the messaging issue). */
export class ConversationRoom extends DurableObject<Cloudflare.Env> {
  /** The last sequence number this room has assigned. */
  async lastSeq(): Promise<number> {
    return (await this.ctx.storage.get<number>("last_seq")) ?? 0;
  }
}
