import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { blocks, conversations, participants } from "../db/schema";
import type { Shard } from "../db/shards";
import type { Watermark } from "../messages/status";
import { newest } from "../messages/store";
import { conversationAdvanced } from "../messages/writes";
import type { Progress } from "./protocol";
import { batch, every } from "../db/compiled";

export type Member = Watermark & { joinedAt: number };

const NONE: ReadonlySet<number> = new Set();

/**
 * What the room knows of its conversation, loaded from D1 once and then kept current by the room itself,
 * the only writer of its conversation: the owner, the members with their watermarks, the last seq.
 */
export class ConversationState {
  loaded = false;
  exists = false;
  ownerId = 0;
  lastSeq = 0;
  /** Disappearing messages: how long those sent now live, in seconds (null: off). */
  messageTtlSeconds: number | null = null;
  /** The conversation's message shard, known once loaded. */
  shard: Shard | null = null;
  readonly members = new Map<number, Member>();
  /** Per member, the other members they blocked (their messages reach them as placeholders). */
  readonly blocks = new Map<number, Set<number>>();

  constructor(readonly conversationId: number) {}

  /**
   * Reads the conversation and its members (one main batch), then its newest message from its shard:
   * the shard is the truth for last_seq. A summary left behind by a flush whose main write failed
   * (see Ledger) is brought up to date here.
   */
  async load(db: Database, shardAt: (index: number) => Shard): Promise<void> {
    const among = sql`(SELECT ${participants.userId} FROM ${participants} WHERE ${participants.conversationId} = ${this.conversationId})`;
    const [row, members, blocked] = await batch(db, [
      db.select({ ownerId: conversations.ownerId, lastSeq: conversations.lastSeq, shard: conversations.shard, ttl: conversations.messageTtlSeconds }).from(conversations).where(eq(conversations.id, this.conversationId)),
      db
        .select({ userId: participants.userId, deliveredSeq: participants.deliveredSeq, readSeq: participants.readSeq, joinedAt: participants.joinedAt })
        .from(participants)
        .where(eq(participants.conversationId, this.conversationId)),
      db
        .select({ blocker: blocks.blockerId, blocked: blocks.blockedId })
        .from(blocks)
        .where(and(sql`${blocks.blockerId} IN ${among}`, sql`${blocks.blockedId} IN ${among}`)),
    ]);
    this.blocks.clear();
    for (const b of blocked) this.block(b.blocker, b.blocked, true);
    this.members.clear();
    for (const m of members) this.members.set(m.userId, { ...m, joinedAt: m.joinedAt.getTime() });
    this.exists = row.length > 0 && members.length > 0;
    this.ownerId = row[0]?.ownerId ?? 0;
    this.messageTtlSeconds = row[0]?.ttl ?? null;
    this.shard = row[0] ? shardAt(row[0].shard) : null;
    this.lastSeq = 0;
    if (this.exists && this.shard) {
      const { last } = await newest(this.shard, this.conversationId);
      this.lastSeq = last?.seq ?? 0;
      if (last && last.seq > row[0]!.lastSeq) await every(conversationAdvanced(db, this.conversationId, last));
    }
    this.loaded = true;
  }

  /** Forgets everything: the next use reloads from D1 (after a write whose outcome is unknown). */
  invalidate(): void {
    this.loaded = false;
  }

  /** Records (or forgets) that `blocker` blocked `blocked`. */
  block(blocker: number, blocked: number, on: boolean): void {
    const set = this.blocks.get(blocker) ?? new Set<number>();
    if (on) set.add(blocked);
    else set.delete(blocked);
    if (set.size) this.blocks.set(blocker, set);
    else this.blocks.delete(blocker);
  }

  /** Whom `viewer` blocked among the members. */
  blockedBy(viewer: number): ReadonlySet<number> {
    return this.blocks.get(viewer) ?? NONE;
  }

  isMember(userId: number): boolean {
    return this.exists && this.members.has(userId);
  }

  /**
   * Moves a member's watermarks to what D1 returned. They only grow there, but answers of concurrent
   * writes (a flush, a receipt) may arrive in any order, so an older answer never moves them back.
   */
  mark(w: Watermark): void {
    const m = this.members.get(w.userId);
    if (m) this.members.set(w.userId, { ...m, deliveredSeq: Math.max(m.deliveredSeq, w.deliveredSeq), readSeq: Math.max(m.readSeq, w.readSeq) });
  }

  watermarks(): Watermark[] {
    return [...this.members.values()];
  }

  /**
   * Every viewer's progress (see Progress) in O(members): the lowest watermark among the others is the
   * lowest overall, unless the viewer alone holds it, then the second lowest.
   */
  progress(): (viewerId: number) => Progress {
    const lowest = (pick: (m: Member) => number) => {
      let first = Infinity;
      let second = Infinity;
      let holders = 0;
      for (const m of this.members.values()) {
        const v = pick(m);
        if (v < first) [second, first, holders] = [first, v, 1];
        else if (v === first) holders++;
        else if (v < second) second = v;
      }
      return (viewer: Member | undefined) => {
        const value = viewer && pick(viewer) === first && holders === 1 ? second : first;
        return Number.isFinite(value) ? value : 0;
      };
    };
    const delivered = lowest((m) => m.deliveredSeq);
    const read = lowest((m) => m.readSeq);
    return (viewerId) => {
      const viewer = this.members.get(viewerId);
      return { delivered_up_to: delivered(viewer), read_up_to: read(viewer) };
    };
  }
}
