// The user stream (GET /api/events/ws/): one socket per device for the chat list, across all conversations.
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ConversationResource } from "../src/conversations/schemas";
import { send, start } from "./support/conversations";
import { api } from "./support/http";
import { addTo, created, edit, inParallel, type Member, numbered, readUpTo, removeFrom, rename, sleep, unsend } from "./support/streams";
import { collect, connectStreamReady, endStreams, streamMember } from "./support/ws";

vi.setConfig({ testTimeout: 60_000 });

// Every frame any stream got in a test is a StreamEvent, numbered gap-free after its ready.
afterEach(() => {
  expect(endStreams()).toEqual([]);
});

describe("ready", () => {
  it("carries the chat list's first page with last messages and unread counts, the chat count and online contacts", async () => {
    const [r, a, b] = await Promise.all([streamMember(), streamMember(), streamMember()]);
    const alone = await start(r, [], { title: "Notes" });
    const withA = await start(a, [r.user.id]);
    const withB = await start(b, [r.user.id]);
    await send(a, withA.id, "one");
    await send(a, withA.id, "two");
    await send(b, withB.id, "hi");
    await send(r, withB.id, "yo");
    // A stranger who is online is no contact of r's.
    const stranger = await streamMember();
    await connectStreamReady({ token: stranger.token });
    await connectStreamReady({ token: a.token });

    const s = await connectStreamReady({ token: r.token });
    const ready = s.events[0];
    expect(ready).toMatchObject({ type: "ready", resumed: false, chats_count: 3 });
    expect(Number.isInteger(ready.event_seq)).toBe(true);
    expect(ready.chats.map((c: any) => c.conversation.id)).toEqual([withB.id, withA.id, alone.id]);
    expect(ready.chats[0]).toMatchObject({ unread_count: 0, last_message: { message_body: "yo", sender: { id: r.user.id } } });
    expect(ready.chats[1]).toMatchObject({ unread_count: 2, last_message: { message_body: "two", seq: 2, sender: { id: a.user.id } } });
    expect(ready.chats[2]).toMatchObject({ unread_count: 0, last_message: null, conversation: { title: "Notes" } });
    expect(ready.presence).toEqual([{ user: a.user.id, online: true, last_seen_at: expect.any(String) }]);

    // The next event is numbered one above the ready.
    await send(b, withB.id, "after ready");
    expect(await created(s, "after ready")).toMatchObject({ event_seq: ready.event_seq + 1 });
  });

  it("carries the first 50 chats and counts all of them", async () => {
    const r = await streamMember();
    await inParallel(50, 10, (i) => start(r, [], { title: `chat ${i}` }));
    const newest = await start(r, [], { title: "newest" });
    const s = await connectStreamReady({ token: r.token });
    expect(s.events[0].chats).toHaveLength(50);
    expect(s.events[0].chats_count).toBe(51);
    expect(s.events[0].chats[0].conversation.id).toBe(newest.id);
  });
});

describe("events of conversations open nowhere", () => {
  it("message.created carries a summary and an unread count that counts up; the sender's own stream gets 0", async () => {
    const [r, a] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [r.user.id]);
    const sr = await connectStreamReady({ token: r.token });
    const sa = await connectStreamReady({ token: a.token });
    const long = "x".repeat(200);
    const first = await send(a, c.id, "first");
    await send(a, c.id, "second");
    await send(a, c.id, long);

    const events = await collect(sr, (e) => e.type === "message.created", 3);
    expect(events.map((e) => e.unread_count)).toEqual([1, 2, 3]);
    expect(events[0]).toEqual({
      type: "message.created",
      event_seq: expect.any(Number),
      conversation_id: c.id,
      unread_count: 1,
      mentioned: false,
      message: { id: first.id, seq: 1, sender: { id: a.user.id, first_name: a.user.first_name, last_name: a.user.last_name }, preview: "first", sent_at: first.sent_at, edited: false, deleted: false },
    });
    expect(events[2].message.preview).toBe("x".repeat(140));
    const mine = await collect(sa, (e) => e.type === "message.created", 3);
    expect(mine.map((e) => e.unread_count)).toEqual([0, 0, 0]);

    // Reading resets the count the next message starts from.
    expect((await readUpTo(r, c.id, 3)).status).toBe(200);
    await send(a, c.id, "fourth");
    expect((await created(sr, "fourth")).unread_count).toBe(1);
  });

  it("conversation.added reaches every participant when a conversation is created", async () => {
    const [r, a] = await Promise.all([streamMember(), streamMember()]);
    const sr = await connectStreamReady({ token: r.token });
    const sa = await connectStreamReady({ token: a.token });
    const c = await start(a, [r.user.id], { title: "Plans" });
    for (const s of [sr, sa]) {
      const added = await s.next((e) => e.type === "conversation.added");
      expect(added.chat).toEqual({ conversation: c, last_message: null, unread_count: 0, mentions: 0, muted_until: null });
    }
  });

  it("being added brings conversation.added with the chat; the others get conversation.updated", async () => {
    const [r, a, b] = await Promise.all([streamMember(), streamMember(), streamMember()]);
    const c = await start(a, [b.user.id]);
    await send(b, c.id, "before you came");
    const sr = await connectStreamReady({ token: r.token });
    const sb = await connectStreamReady({ token: b.token });
    expect((await addTo(a, c.id, r.user.id)).status).toBe(201);

    const added = await sr.next((e) => e.type === "conversation.added");
    expect(added.chat).toMatchObject({ conversation: { id: c.id }, last_message: { message_body: "before you came" }, unread_count: 0 });
    expect(added.chat.conversation.participants.map((p: any) => p.id).sort()).toEqual([a.user.id, b.user.id, r.user.id].sort());
    const updated = await sb.next((e) => e.type === "conversation.updated");
    expect(updated.conversation.participants.map((p: any) => p.id)).toContain(r.user.id);
  });

  // Sends keep arriving while people are added: each added reader's stream must start the chat from a
  // snapshot no message slips past (the room adds between flushes, see Ledger.hold).
  it("an added user's stream gets conversation.added before any of its messages, with a chat the messages that follow continue", async () => {
    const people = await Promise.all(Array.from({ length: 14 }, () => streamMember()));
    const [a, b, readers] = [people[0]!, people[1]!, people.slice(2)];
    const c = await start(a, [b.user.id]);
    const streams = await Promise.all(readers.map((r) => connectStreamReady({ token: r.token })));
    // b keeps sending, eight at a time, while a adds the readers one by one: each add races the room's next flush.
    let adding = true;
    const sending = inParallel(8, 8, async () => {
      for (let i = 0; adding; i++) await send(b, c.id, `m${i}`);
    });
    for (const r of readers) expect((await addTo(a, c.id, r.user.id)).status).toBe(201);
    adding = false;
    await sending;
    await send(b, c.id, "last");
    await Promise.all(streams.map((s) => created(s, "last")));

    const problems = streams.flatMap((s, i) => {
      const events = numbered(s);
      const added = events.find((e) => e.type === "conversation.added");
      const inChat = added?.chat.last_message?.seq ?? 0;
      if (events[0] !== added) return [`reader ${i}: message.created #${events[0].message.seq} came before conversation.added, whose chat ends at #${inChat}`];
      const first = events.find((e) => e.type === "message.created");
      return first && first.message.seq > inChat + 1 ? [`reader ${i}: the chat ends at #${inChat}, the next message.created is #${first.message.seq}`] : [];
    });
    expect(problems).toEqual([]);
  });

  it("conversation.updated follows a rename and a removal; the one removed gets conversation.removed", async () => {
    const [r, a, b] = await Promise.all([streamMember(), streamMember(), streamMember()]);
    const c = await start(a, [r.user.id, b.user.id]);
    const sr = await connectStreamReady({ token: r.token });
    const sa = await connectStreamReady({ token: a.token });
    expect((await rename(r, c.id, "Renamed")).status).toBe(200);
    for (const s of [sr, sa]) expect((await s.next((e) => e.type === "conversation.updated")).conversation).toMatchObject({ id: c.id, title: "Renamed" });

    expect((await removeFrom(a, c.id, b.user.id)).status).toBe(204);
    const left = await sr.next((e) => e.type === "conversation.updated" && e.conversation.participants.length === 2);
    expect(left.conversation.participants.map((p: any) => p.id)).not.toContain(b.user.id);

    expect((await removeFrom(a, c.id, r.user.id)).status).toBe(204);
    expect(await sr.next((e) => e.type === "conversation.removed")).toMatchObject({ conversation_id: c.id });
    const gone = await sa.next((e) => e.type === "conversation.updated" && e.conversation.participants.length === 1);
    expect(gone.conversation.participants.map((p: any) => p.id)).toEqual([a.user.id]);

    // Its messages no longer reach the one removed.
    await send(a, c.id, "after you left");
    await created(sa, "after you left");
    await sleep(100);
    expect(sr.events.filter((e) => e.type === "message.created")).toEqual([]);
  });

  it("leaving and deleting bring conversation.removed", async () => {
    const [r, a] = await Promise.all([streamMember(), streamMember()]);
    const left = await start(a, [r.user.id]);
    const deleted = await start(a, [r.user.id]);
    const sr = await connectStreamReady({ token: r.token });
    const sa = await connectStreamReady({ token: a.token });
    expect((await removeFrom(r, left.id, r.user.id)).status).toBe(204);
    expect(await sr.next((e) => e.type === "conversation.removed")).toMatchObject({ conversation_id: left.id });

    expect((await api(`/api/conversations/${deleted.id}/`, { method: "DELETE", token: a.token })).status).toBe(204);
    for (const s of [sr, sa]) await s.next((e) => e.type === "conversation.removed" && e.conversation_id === deleted.id);
  });

  it("message.updated and message.deleted come only for the conversation's last message", async () => {
    const [r, a] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [r.user.id]);
    const older = await send(a, c.id, "older");
    const last = await send(a, c.id, "last");
    const sr = await connectStreamReady({ token: r.token });

    expect((await edit(a, c.id, older.id, "older, edited")).status).toBe(200);
    expect((await edit(a, c.id, last.id, "last, edited")).status).toBe(200);
    const updated = await sr.next((e) => e.type === "message.updated");
    expect(updated).toMatchObject({ conversation_id: c.id, message: { id: last.id, seq: 2, preview: "last, edited", edited: true, deleted: false } });

    expect((await unsend(a, c.id, older.id)).status).toBe(204);
    expect((await unsend(a, c.id, last.id)).status).toBe(204);
    const deleted = await sr.next((e) => e.type === "message.deleted");
    expect(deleted).toMatchObject({ conversation_id: c.id, message: { id: last.id, preview: "", deleted: true } });

    await sleep(200);
    expect(sr.events.filter((e) => e.type.startsWith("message.")).map((e) => [e.type, e.message.id])).toEqual([
      ["message.updated", last.id],
      ["message.deleted", last.id],
    ]);
  });

  it("receipt reaches all of the user's streams when their watermarks move, and not when they stay", async () => {
    const [r, a] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [r.user.id]);
    for (const body of ["1", "2", "3"]) await send(a, c.id, body);
    const phone = await connectStreamReady({ token: r.token });
    const laptop = await connectStreamReady({ token: r.token });
    const sa = await connectStreamReady({ token: a.token });

    expect((await readUpTo(r, c.id, 1)).status).toBe(200);
    for (const s of [phone, laptop]) expect(await s.next((e) => e.type === "receipt")).toMatchObject({ conversation_id: c.id, delivered_seq: 1, read_seq: 1, unread_count: 2 });
    expect((await readUpTo(r, c.id, 3)).status).toBe(200);
    await laptop.next((e) => e.type === "receipt" && e.unread_count === 0);
    // Read again: nothing moved, nothing to tell.
    expect((await readUpTo(r, c.id, 3)).status).toBe(200);
    await send(a, c.id, "barrier");
    await created(phone, "barrier");
    await sleep(100);
    expect(phone.events.filter((e) => e.type === "receipt").map((e) => e.read_seq)).toEqual([1, 3]);
    expect(sa.events.filter((e) => e.type === "receipt")).toEqual([]);
  });
});

describe("the snapshot's seam", () => {
  it("a stream opened while messages pour in misses none: those not in its snapshot follow its ready", async () => {
    const [r, a] = await Promise.all([streamMember(), streamMember()]);
    const c = await start(a, [r.user.id]);
    const sa = await connectStreamReady({ token: a.token });
    const burst = (async () => {
      for (let i = 1; i <= 12; i++) await send(a, c.id, `burst ${i}`);
    })();
    await collect(sa, (e) => e.type === "message.created", 3, 10_000);
    // r was offline: this stream brings them online while the room keeps committing.
    const sr = await connectStreamReady({ token: r.token });
    await burst;
    await created(sr, "burst 12");

    const inSnapshot = sr.events[0].chats[0].conversation.last_seq;
    const seqs = sr.events.filter((e) => e.type === "message.created").map((e) => e.message.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    for (let seq = inSnapshot + 1; seq <= 12; seq++) expect(seqs).toContain(seq);
    expect(sr.events.at(-1).unread_count).toBe(12);
  });
});

describe("event_seq", () => {
  it("is gap-free and in order across 200 messages from several senders in several conversations, the same on both of a user's streams", async () => {
    const [r, a, b, c] = await Promise.all([streamMember(), streamMember(), streamMember(), streamMember()]);
    const withA = await start(a, [r.user.id]);
    const withB = await start(b, [r.user.id]);
    const group = await start(c, [r.user.id, a.user.id, b.user.id]);
    const first = await connectStreamReady({ token: r.token });
    const second = await connectStreamReady({ token: r.token });
    const senders: [Member, ConversationResource][] = [[a, withA], [b, withB], [a, group], [b, group], [c, group]];

    // Forty at a time: sends of several rooms interleave, and each room commits some in groups.
    await inParallel(200, 40, (i) => send(senders[i % 5]![0], senders[i % 5]![1].id, `message ${i}`));
    const events = await collect(first, (e) => e.type === "message.created", 200, 30_000);
    await collect(second, (e) => e.type === "message.created", 200, 30_000);

    const seqs = numbered(first).map((e) => e.event_seq);
    expect(seqs).toEqual(seqs.map((_, i) => first.events[0].event_seq + 1 + i));
    for (const conv of [withA, withB, group]) {
      const inConv = events.filter((e) => e.conversation_id === conv.id).map((e) => e.message.seq);
      expect(inConv).toEqual(inConv.map((_, i) => i + 1));
    }
    expect(new Set(events.map((e) => e.message.preview)).size).toBe(200);
    // r never read: each event's unread count is the message's seq.
    expect(events.every((e) => e.unread_count === e.message.seq)).toBe(true);
    const since = second.events[0].event_seq;
    expect(numbered(second)).toEqual(numbered(first).filter((e) => e.event_seq > since));
  });
});

