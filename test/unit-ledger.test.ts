import { env } from "cloudflare:test";
import { asc, eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { database } from "../src/db/client";
import { conversations, participants, users } from "../src/db/schema";
import { messages } from "../src/db/shard-schema";
import { shardAt } from "../src/db/shards";
import type { Sender, StoredMessage } from "../src/messages/store";
import { Ledger, type SendInput, type SendResult } from "../src/realtime/ledger";
import { parseFrame } from "../src/realtime/socket-frames";
import { ConversationState } from "../src/realtime/state";
import { apiIdOf, shardOf } from "./support/shards";

const db = database(env.DB);

let made = 0;

/**
 * A conversation of `count` new users, inserted straight into D1; the first one owns it. Conversations
 * alternate between the two message shards, so message ids name both.
 */
async function conversationOf(count: number) {
  const now = new Date();
  const people = await db
    .insert(users)
    .values(Array.from({ length: count }, (_, i) => ({ email: `ledger-${crypto.randomUUID()}@example.com`, passwordHash: "unused", firstName: `Person${i}`, lastName: "Ledger" })))
    .returning({ id: users.id, firstName: users.firstName, lastName: users.lastName });
  const [conversation] = await db
    .insert(conversations)
    .values({ ownerId: people[0]!.id, updatedAt: now, lastActivityAt: now, shard: made++ % 2 })
    .returning({ id: conversations.id });
  await db.insert(participants).values(people.map((p) => ({ conversationId: conversation!.id, userId: p.id, joinedAt: now })));
  return { id: conversation!.id, people: people as Sender[] };
}

/**
 * A ledger over a fresh state, as the room builds it: the state loads once, on the first flush. It
 * keeps what the hooks heard: each flush's messages once the shard stored them (`committed`), and once
 * the main database recorded them (`recorded`).
 */
function ledgerOf(conversationId: number, options: { env?: Cloudflare.Env; connected?: number[] } = {}) {
  const state = new ConversationState(conversationId);
  const committed: StoredMessage[][] = [];
  const recorded: StoredMessage[][] = [];
  const connected = options.connected ?? [];
  const ledgerEnv = options.env ?? env;
  const shards = (index: number) => shardAt(ledgerEnv, index);
  const ledger = new Ledger(ledgerEnv, state, () => database(env.DB), () => (state.loaded ? Promise.resolve() : state.load(database(env.DB), shards)), {
    connectedUsers: () => connected,
    committed: (flush) => committed.push(flush),
    recorded: (flush) => recorded.push(flush),
    senders: async (ids) => new Map(ids.map((id) => [id, { id, firstName: "", lastName: "" }])),
  });
  /** Resolves once the main database has recorded every flush so far (its write follows the answers). */
  const recordedAll = () => ledger.afterRecords(async () => {});
  return { state, ledger, committed, recorded, recordedAll };
}

/** The conversation's rows in its shard, by seq (`id` is the shard's own row id). */
async function storedIn(conversationId: number) {
  const { shard } = await shardOf(conversationId);
  return shard.db.select().from(messages).where(eq(messages.conversationId, conversationId)).orderBy(asc(messages.seq));
}

const watermarksIn = (conversationId: number) =>
  db.select({ userId: participants.userId, deliveredSeq: participants.deliveredSeq, readSeq: participants.readSeq }).from(participants).where(eq(participants.conversationId, conversationId));

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function stored(result: SendResult) {
  if (!result.ok) throw new Error(`expected a stored message, got ${result.status} ${result.detail}`);
  return result;
}

describe("Ledger: order", () => {
  it("numbers 100 concurrent sends from 3 senders 1 to 100 in the order they were queued, stores each once and commits them in groups", async () => {
    const { id, people } = await conversationOf(3);
    const { ledger, state, committed, recorded, recordedAll } = ledgerOf(id);
    const inputs: SendInput[] = range(0, 99).map((i) => ({ sender: people[i % 3]!, body: `message ${i}`, clientMessageId: i % 2 ? `key-${i}` : null, replyTo: null, mentions: null, attachments: null }));

    const results = (await Promise.all(inputs.map((input) => ledger.send(input)))).map(stored);

    expect(results.map((r) => r.message.seq)).toEqual(range(1, 100));
    expect(results.every((r) => r.created)).toBe(true);
    const rows = await storedIn(id);
    expect(rows.map((r) => r.seq)).toEqual(range(1, 100));
    expect(rows.map((r) => [r.senderId, r.body, r.clientMessageId])).toEqual(inputs.map((i) => [i.sender.id, i.body, i.clientMessageId]));
    // Each answer names the row its shard holds for it (id and seq paired as stored; the id names the shard).
    const { index } = await shardOf(id);
    expect(results.map((r) => [r.message.id, r.message.seq, r.message.body])).toEqual(rows.map((r) => [apiIdOf(r.id, index), r.seq, r.body]));

    const seen = committed.flatMap((flush) => flush.map((m) => m.seq));
    expect(seen).toEqual(range(1, 100));
    expect(committed.every((flush) => flush.length > 0)).toBe(true);
    expect(committed.length).toBeGreaterThan(1);
    expect(committed.length).toBeLessThan(100);

    expect(state.lastSeq).toBe(100);
    // The main database records the flushes after the answers: every message, in order, and the newest on the conversation's row.
    await recordedAll();
    expect(recorded.flatMap((flush) => flush.map((m) => m.seq))).toEqual(range(1, 100));
    const [conversation] = await db
      .select({ lastSeq: conversations.lastSeq, lastMessageId: conversations.lastMessageId, lastBody: conversations.lastBody })
      .from(conversations)
      .where(eq(conversations.id, id));
    expect(conversation).toEqual({ lastSeq: 100, lastMessageId: results[99]!.message.id, lastBody: "message 99" });
  });

  it("continues from the stored seqs when a new ledger (a woken room) takes over", async () => {
    const { id, people } = await conversationOf(2);
    const first = ledgerOf(id).ledger;
    await Promise.all(range(1, 5).map((i) => first.send({ sender: people[0]!, body: `before the wake-up ${i}`, clientMessageId: null, replyTo: null, mentions: null, attachments: null })));

    const woken = ledgerOf(id);
    const results = await Promise.all(range(1, 3).map((i) => woken.ledger.send({ sender: people[1]!, body: `after the wake-up ${i}`, clientMessageId: null, replyTo: null, mentions: null, attachments: null })));

    expect(results.map((r) => stored(r).message.seq)).toEqual([6, 7, 8]);
    expect(woken.state.lastSeq).toBe(8);
    expect((await storedIn(id)).map((r) => r.seq)).toEqual(range(1, 8));
  });

  it("writes one message per batch when GROUP_COMMIT_MAX_BATCH is 1", async () => {
    const { id, people } = await conversationOf(2);
    const single = { ...env, GROUP_COMMIT_MAX_BATCH: "1" };
    const { ledger, committed } = ledgerOf(id, { env: single });

    const results = await Promise.all(range(1, 12).map((i) => ledger.send({ sender: people[i % 2]!, body: `one at a time ${i}`, clientMessageId: null, replyTo: null, mentions: null, attachments: null })));

    expect(results.map((r) => stored(r).message.seq)).toEqual(range(1, 12));
    expect(committed.map((flush) => flush.map((m) => m.seq))).toEqual(range(1, 12).map((seq) => [seq]));
    expect((await storedIn(id)).map((r) => r.seq)).toEqual(range(1, 12));
  });
});

describe("Ledger: retries", () => {
  it("answers a retry sent while the first is in flight with the first message, created: false", async () => {
    const { id, people } = await conversationOf(2);
    const { ledger, committed } = ledgerOf(id);
    const send = { sender: people[0]!, body: "hello", clientMessageId: "retry-1", replyTo: null, mentions: null, attachments: null };

    const [first, again] = (await Promise.all([ledger.send(send), ledger.send({ ...send })])).map(stored);

    expect(first!.created).toBe(true);
    expect(again!.created).toBe(false);
    expect(again!.message).toEqual(first!.message);
    expect(await storedIn(id)).toHaveLength(1);
    expect(committed.flat()).toHaveLength(1);
  });

  it("answers a retry of a stored message with that message, created: false, without storing or committing anything", async () => {
    const { id, people } = await conversationOf(2);
    const { ledger, committed } = ledgerOf(id);
    const send = { sender: people[0]!, body: "hello", clientMessageId: "retry-2", replyTo: null, mentions: null, attachments: null };
    const first = stored(await ledger.send(send));

    const again = stored(await ledger.send({ ...send }));
    // A woken room, with nothing in memory, finds it in D1 too.
    const afterWake = stored(await ledgerOf(id).ledger.send({ ...send }));

    for (const retry of [again, afterWake]) {
      expect(retry.created).toBe(false);
      expect(retry.message).toMatchObject({ id: first.message.id, seq: 1, body: "hello", senderId: people[0]!.id, clientMessageId: "retry-2", replyTo: null, mentions: null, attachments: null });
      expect(retry.message.sender).toMatchObject({ id: people[0]!.id, firstName: people[0]!.firstName, lastName: people[0]!.lastName });
    }
    expect(await storedIn(id)).toHaveLength(1);
    expect(committed.flat().map((m) => m.seq)).toEqual([1]);
  });

  it("answers 409 to the same client_message_id with another body, in flight or stored", async () => {
    const { id, people } = await conversationOf(2);
    const { ledger } = ledgerOf(id);
    const conflict = { ok: false, status: 409, detail: "This client_message_id was already used with a different message_body." };

    const [first, inFlight] = await Promise.all([
      ledger.send({ sender: people[0]!, body: "the original", clientMessageId: "retry-3", replyTo: null, mentions: null, attachments: null }),
      ledger.send({ sender: people[0]!, body: "something else", clientMessageId: "retry-3", replyTo: null, mentions: null, attachments: null }),
    ]);
    const later = await ledger.send({ sender: people[0]!, body: "something else", clientMessageId: "retry-3", replyTo: null, mentions: null, attachments: null });

    expect(stored(first).created).toBe(true);
    expect(inFlight).toEqual(conflict);
    expect(later).toEqual(conflict);
    expect((await storedIn(id)).map((r) => r.body)).toEqual(["the original"]);
  });

  it("keeps another sender's use of the same client_message_id independent", async () => {
    const { id, people } = await conversationOf(2);
    const { ledger } = ledgerOf(id);

    const [mine, theirs] = (
      await Promise.all([
        ledger.send({ sender: people[0]!, body: "mine", clientMessageId: "shared-key", replyTo: null, mentions: null, attachments: null }),
        ledger.send({ sender: people[1]!, body: "theirs", clientMessageId: "shared-key", replyTo: null, mentions: null, attachments: null }),
      ])
    ).map(stored);
    const theirsAgain = stored(await ledger.send({ sender: people[1]!, body: "theirs", clientMessageId: "shared-key", replyTo: null, mentions: null, attachments: null }));

    expect(mine!.created).toBe(true);
    expect(theirs!.created).toBe(true);
    expect(theirs!.message.id).not.toBe(mine!.message.id);
    expect(theirsAgain).toMatchObject({ created: false, message: { id: theirs!.message.id, body: "theirs" } });
    expect((await storedIn(id)).map((r) => [r.seq, r.senderId, r.body])).toEqual([
      [1, people[0]!.id, "mine"],
      [2, people[1]!.id, "theirs"],
    ]);
  });

  it("leaves no gap in the seqs when a retry of a stored message shares a flush with new ones", async () => {
    const { id, people } = await conversationOf(2);
    const { ledger, committed } = ledgerOf(id);
    const old = stored(await ledger.send({ sender: people[0]!, body: "stored earlier", clientMessageId: "old", replyTo: null, mentions: null, attachments: null }));

    // The first send flushes alone; the three behind it wait and go together in the next flush.
    const [, before, retry, after] = (
      await Promise.all([
        ledger.send({ sender: people[1]!, body: "opens a flush", clientMessageId: null, replyTo: null, mentions: null, attachments: null }),
        ledger.send({ sender: people[1]!, body: "before the retry", clientMessageId: "new-1", replyTo: null, mentions: null, attachments: null }),
        ledger.send({ sender: people[0]!, body: "stored earlier", clientMessageId: "old", replyTo: null, mentions: null, attachments: null }),
        ledger.send({ sender: people[0]!, body: "after the retry", clientMessageId: "new-2", replyTo: null, mentions: null, attachments: null }),
      ])
    ).map(stored);

    expect(committed.at(-1)!.map((m) => m.body)).toEqual(["before the retry", "after the retry"]);
    expect(retry).toMatchObject({ created: false, message: { id: old.message.id, seq: 1 } });
    expect([before!.message.seq, after!.message.seq]).toEqual([3, 4]);
    expect((await storedIn(id)).map((r) => [r.seq, r.body])).toEqual([
      [1, "stored earlier"],
      [2, "opens a flush"],
      [3, "before the retry"],
      [4, "after the retry"],
    ]);
  });

  // A lone surrogate ("x\ud800y", the JSON escape \ud800 on the wire) is not a character: stored through the
  // flush's JSON rows it would come back as U+FFFD, so history would differ from the ack and an honest retry
  // would get 409. The body rule refuses it, as a frame and over REST (the same schema).
  it("refuses a body holding a lone surrogate, which could not be stored as acknowledged", async () => {
    const parsed = parseFrame(String.raw`{"type":"send","message_body":"x\ud800y","client_message_id":"lone-surrogate"}`);
    expect(parsed).toMatchObject({ code: "invalid_frame", detail: expect.stringContaining("message_body") });
    const paired = parseFrame(String.raw`{"type":"send","message_body":"x\ud83d\ude00y"}`);
    expect("frame" in paired).toBe(true);
  });

  it("answers 503 when a flush's answer is lost, and the retry then finds the message that was stored", async () => {
    const { id, people } = await conversationOf(2);
    let loseNextAnswer = true;
    // The conversation's shard, whose next batch that writes (a flush's) commits but whose answer never
    // arrives: the outcome is unknown to the room. Its sessions (the room writes through one) too.
    const flaky = <D extends D1Database | D1DatabaseSession>(d1: D): D =>
      new Proxy(d1, {
        get(target, property) {
          if (property === "batch")
            return async (statements: D1PreparedStatement[]) => {
              const results = await target.batch(statements);
              if (loseNextAnswer && results.some((r) => r.meta.changed_db)) {
                loseNextAnswer = false;
                throw new Error("D1_ERROR: Network connection lost.");
              }
              return results;
            };
          if (property === "withSession") return (constraint?: string) => flaky((target as D1Database).withSession(constraint));
          const value = Reflect.get(target, property, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    const { index, d1 } = await shardOf(id);
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const { ledger, state, recordedAll } = ledgerOf(id, { env: { ...env, [`MESSAGES_${index}`]: flaky(d1) } });
    const send = { sender: people[0]!, body: "did it arrive?", clientMessageId: "lost-answer", replyTo: null, mentions: null, attachments: null };

    const lost = await ledger.send(send);
    expect(state.loaded).toBe(false);
    const retry = stored(await ledger.send({ ...send }));
    const next = stored(await ledger.send({ sender: people[1]!, body: "next", clientMessageId: null, replyTo: null, mentions: null, attachments: null }));
    expect(errors).toHaveBeenCalledWith("message flush failed", expect.any(Error));
    errors.mockRestore();

    expect(lost).toEqual({ ok: false, status: 503, detail: "The message could not be stored; retry with the same client_message_id." });
    expect(retry).toMatchObject({ created: false, message: { seq: 1, body: "did it arrive?" } });
    expect(loseNextAnswer).toBe(false);
    expect(next.message.seq).toBe(2);
    expect((await storedIn(id)).map((r) => r.seq)).toEqual([1, 2]);
    await recordedAll();
    const [conversation] = await db.select({ lastSeq: conversations.lastSeq, lastBody: conversations.lastBody }).from(conversations).where(eq(conversations.id, id));
    expect(conversation).toEqual({ lastSeq: 2, lastBody: "next" });
  });
});

describe("Ledger: large bodies", () => {
  const controls = "\u0001".repeat(4000); // 6 bytes each in JSON: ~24 KB per row
  const emoji = "😀".repeat(4000); // 4 bytes each in UTF-8: ~16 KB per row

  it("stores 60 sends of 4,000 control characters or emoji with gap-free seqs and the bodies intact", async () => {
    const { id, people } = await conversationOf(3);
    const { ledger, committed } = ledgerOf(id);
    const inputs: SendInput[] = range(0, 59).map((i) => ({ sender: people[i % 3]!, body: i % 3 === 2 ? emoji : controls, clientMessageId: `big-${i}`, replyTo: null, mentions: null, attachments: null }));

    const results = (await Promise.all(inputs.map((input) => ledger.send(input)))).map(stored);

    expect(results.map((r) => r.message.seq)).toEqual(range(1, 60));
    const rows = await storedIn(id);
    expect(rows.map((r) => r.seq)).toEqual(range(1, 60));
    expect(rows.map((r) => r.clientMessageId)).toEqual(inputs.map((i) => i.clientMessageId));
    expect(rows.every((r, i) => r.body === inputs[i]!.body)).toBe(true);
    expect(committed.flat().map((m) => m.seq)).toEqual(range(1, 60));

    // D1 takes at most 100 KB per statement: no flush may carry more than 4 × 90 KB of rows as JSON,
    // so 59 queued rows of 16–24 KB cannot go in one flush.
    const bytes = (flush: StoredMessage[]) => flush.reduce((n, m) => n + new TextEncoder().encode(JSON.stringify({ s: m.senderId, b: m.body, k: m.clientMessageId })).length, 0);
    expect(Math.max(...committed.map(bytes))).toBeLessThanOrEqual(360_000);
    expect(committed.length).toBeGreaterThanOrEqual(5);
  });

  it("mixes large and small bodies in one flush without losing either", async () => {
    const { id, people } = await conversationOf(2);
    const { ledger } = ledgerOf(id);
    const inputs: SendInput[] = range(0, 29).map((i) => ({ sender: people[i % 2]!, body: i % 5 === 0 ? `short ${i}` : `${controls.slice(0, 3990)}${i}`, clientMessageId: null, replyTo: null, mentions: null, attachments: null }));

    const results = (await Promise.all(inputs.map((input) => ledger.send(input)))).map(stored);

    expect(results.map((r) => r.message.seq)).toEqual(range(1, 30));
    expect((await storedIn(id)).map((r) => r.body)).toEqual(inputs.map((i) => i.body));
  });
});

describe("Ledger: watermarks", () => {
  it("moves each sender to its newest message and connected members' delivered_seq to the flush's top", async () => {
    const { id, people } = await conversationOf(4);
    const [alice, bob, carol, dave] = people as [Sender, Sender, Sender, Sender];
    const { ledger, state, recordedAll } = ledgerOf(id, { connected: [bob.id, carol.id] });

    const seqs = (
      await Promise.all([
        ledger.send({ sender: alice, body: "1", clientMessageId: null, replyTo: null, mentions: null, attachments: null }),
        ledger.send({ sender: bob, body: "2", clientMessageId: null, replyTo: null, mentions: null, attachments: null }),
        ledger.send({ sender: alice, body: "3", clientMessageId: null, replyTo: null, mentions: null, attachments: null }),
      ])
    ).map((r) => stored(r).message.seq);
    expect(seqs).toEqual([1, 2, 3]);

    const expected = [
      { userId: alice.id, deliveredSeq: 3, readSeq: 3 }, // sent the newest
      { userId: bob.id, deliveredSeq: 3, readSeq: 2 }, // sent 2, and connected: 3 was delivered to it
      { userId: carol.id, deliveredSeq: 3, readSeq: 0 }, // connected only
      { userId: dave.id, deliveredSeq: 0, readSeq: 0 }, // neither
    ];
    const byUser = (a: { userId: number }, b: { userId: number }) => a.userId - b.userId;
    // The room's memory moves with the flush; the main database right after it, in its own batch.
    await recordedAll();
    expect((await watermarksIn(id)).sort(byUser)).toEqual(expected);
    expect(state.watermarks().map(({ userId, deliveredSeq, readSeq }) => ({ userId, deliveredSeq, readSeq })).sort(byUser)).toEqual(expected);
  });

  it("moves no watermark when a flush stores nothing new", async () => {
    const { id, people } = await conversationOf(3);
    const connected: number[] = [];
    const { ledger, state, recordedAll } = ledgerOf(id, { connected });
    await ledger.send({ sender: people[0]!, body: "once", clientMessageId: "only", replyTo: null, mentions: null, attachments: null });
    await recordedAll();
    const before = await watermarksIn(id);
    expect(before.find((w) => w.userId === people[0]!.id)).toMatchObject({ deliveredSeq: 1, readSeq: 1 });

    connected.push(people[2]!.id); // connects after the message was stored: only a new flush delivers to it
    await ledger.send({ sender: people[0]!, body: "once", clientMessageId: "only", replyTo: null, mentions: null, attachments: null });
    await recordedAll();

    expect(await watermarksIn(id)).toEqual(before);
    expect(state.members.get(people[2]!.id)).toMatchObject({ deliveredSeq: 0, readSeq: 0 });
  });
});

describe("Ledger: missing conversations", () => {
  it('answers 404 "No such conversation." to sends into a conversation whose participants were all deleted', async () => {
    const { id, people } = await conversationOf(2);
    await db.delete(participants).where(eq(participants.conversationId, id));
    const { ledger, committed } = ledgerOf(id);

    const results = await Promise.all([
      ledger.send({ sender: people[0]!, body: "anyone?", clientMessageId: null, replyTo: null, mentions: null, attachments: null }),
      ledger.send({ sender: people[1]!, body: "hello?", clientMessageId: "k", replyTo: null, mentions: null, attachments: null }),
      ledger.send({ sender: people[1]!, body: "still there?", clientMessageId: null, replyTo: null, mentions: null, attachments: null }),
    ]);

    expect(results).toEqual(results.map(() => ({ ok: false, status: 404, detail: "No such conversation." })));
    expect(await storedIn(id)).toEqual([]);
    expect(committed).toEqual([]);
  });

  it("answers 404 to a send into a conversation that never existed", async () => {
    const { people } = await conversationOf(1);
    const { ledger } = ledgerOf(987_654);
    expect(await ledger.send({ sender: people[0]!, body: "hi", clientMessageId: null, replyTo: null, mentions: null, attachments: null })).toEqual({ ok: false, status: 404, detail: "No such conversation." });
  });
});
