import { bySeqRange, changedSince, newest, type MessageRow, type StoredMessage } from "../messages/store";
import { every } from "../db/compiled";
import { attachmentOf, closeSocket, sendEvent } from "./connections";
import type { Fanout } from "./fanout";
import { framesFor } from "./fanout";
import { REPLAY_LIMIT } from "./protocol";
import type { ConversationState } from "./state";

const REPLAY_PAGE = 200;

/**
 * Brings a new socket up to date: every message after `after`, then edits and deletes of older ones
 * after change `afterChange`, then `ready`, then what was broadcast meanwhile. The switch to live has no
 * await in it, so no flush can slip between the last replayed message and the first live one.
 */
export async function replay(
  ws: WebSocket,
  state: ConversationState,
  withSenders: (rows: MessageRow[]) => Promise<StoredMessage[]>,
  fanout: Fanout,
  after: number,
  afterChange: number | null,
): Promise<void> {
  const id = state.conversationId;
  const shard = state.shard!;
  const viewer = attachmentOf(ws)!.userId;
  try {
    const top = () => state.lastSeq;
    // A client cannot have seen past the last message; a larger after_seq would hide live ones.
    let sent = Math.min(after, top());
    if (top() - after > REPLAY_LIMIT) {
      sendEvent(ws, { type: "resync", last_seq: top() });
      sent = top();
    }
    const catchUp = async () => {
      while (sent < top()) {
        // Capped at the committed counter: a row whose flush has not returned yet goes out live, not twice.
        const rows = await withSenders(await every(bySeqRange(shard, id, sent, Math.min(sent + REPLAY_PAGE, top()))));
        if (rows.length === 0) break;
        for (const m of rows) sendEvent(ws, framesFor("message.created", m, state.watermarks(), (v) => state.blockedBy(v))(viewer));
        sent = rows.at(-1)!.seq;
      }
    };
    await catchUp();
    const [{ changeSeq }, changed] = await Promise.all([newest(shard, id), changedSince(shard, id, after, afterChange ?? Number.MAX_SAFE_INTEGER, REPLAY_LIMIT)]);
    for (const m of await withSenders(changed)) {
      sendEvent(ws, framesFor(m.deleted ? "message.deleted" : "message.updated", m, state.watermarks(), (v) => state.blockedBy(v))(viewer));
    }
    await catchUp();
    // From here to the end there is no await: the switch to live cannot interleave with a flush.
    const progress = state.progress()(viewer);
    sendEvent(ws, { type: "ready", last_seq: sent, change_seq: changeSeq, read_seq: state.members.get(viewer)?.readSeq ?? 0, ...progress });
    fanout.goLive(ws, sent, viewer, progress);
  } catch (error) {
    console.error("replay failed", error);
    fanout.replaying.delete(ws);
    closeSocket(ws, 1011, "Replay failed; reconnect with after_seq.");
  }
}
