import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { statusOf, statusRange, statusView, type Watermark } from "../src/messages/status";
import { ConversationState } from "../src/realtime/state";

/** A loaded state holding exactly these members (no D1: progress() only reads the members). */
function stateOf(marks: readonly Watermark[]): ConversationState {
  const state = new ConversationState(1);
  state.exists = true;
  state.loaded = true;
  for (const m of marks) state.members.set(m.userId, { ...m, joinedAt: 0 });
  return state;
}

/** The definition: the lowest watermark among the other members, 0 when there are none. */
function bruteProgress(marks: readonly Watermark[], viewerId: number) {
  const others = marks.filter((m) => m.userId !== viewerId);
  const lowest = (pick: (m: Watermark) => number) => (others.length ? Math.min(...others.map(pick)) : 0);
  return { delivered_up_to: lowest((m) => m.deliveredSeq), read_up_to: lowest((m) => m.readSeq) };
}

/** The rule stated from watermarks alone: read up to `read`, delivered up to `delivered`, sent after. */
const byMarks = (seq: number, delivered: number, read: number) => (seq <= read ? "read" : seq <= delivered ? "delivered" : "sent");

const MAX_SEQ = 20;

/** A member as D1 keeps one: read ≤ delivered (read implies delivered). */
const memberMarks = fc.uniqueArray(
  fc.record({ userId: fc.integer({ min: 1, max: 12 }), deliveredSeq: fc.integer({ min: 0, max: MAX_SEQ }), readSeq: fc.integer({ min: 0, max: MAX_SEQ }) }).map((m) => ({ ...m, readSeq: Math.min(m.readSeq, m.deliveredSeq) })),
  { selector: (m) => m.userId, maxLength: 8 },
);

/** Any watermarks at all (progress() must not depend on read ≤ delivered). */
const anyMarks = fc.uniqueArray(fc.record({ userId: fc.integer({ min: 1, max: 12 }), deliveredSeq: fc.nat(MAX_SEQ), readSeq: fc.nat(MAX_SEQ) }), {
  selector: (m) => m.userId,
  maxLength: 8,
});

/** A viewer among the members, or (index past the end) someone who is not one. */
const viewerOf = (marks: readonly Watermark[], index: number) => marks[index]?.userId ?? 99;

describe("ConversationState.progress()", () => {
  it("gives every viewer the lowest watermark among the other members, 0 when there are none", () => {
    fc.assert(
      fc.property(anyMarks, fc.nat(9), (marks, index) => {
        const viewerId = viewerOf(marks, index);
        expect(stateOf(marks).progress()(viewerId)).toEqual(bruteProgress(marks, viewerId));
      }),
      { numRuns: 2000 },
    );
  });

  it("answers every member from one computation, whoever asks first", () => {
    fc.assert(
      fc.property(anyMarks, (marks) => {
        const progress = stateOf(marks).progress();
        for (const viewerId of [...marks.map((m) => m.userId), 99].reverse()) expect(progress(viewerId)).toEqual(bruteProgress(marks, viewerId));
      }),
    );
  });

  it("lets a viewer who alone holds the lowest watermark see the second lowest, and a tied one the lowest", () => {
    const alone = stateOf([
      { userId: 1, deliveredSeq: 0, readSeq: 0 },
      { userId: 2, deliveredSeq: 5, readSeq: 3 },
      { userId: 3, deliveredSeq: 7, readSeq: 7 },
    ]).progress();
    expect(alone(1)).toEqual({ delivered_up_to: 5, read_up_to: 3 });
    expect(alone(2)).toEqual({ delivered_up_to: 0, read_up_to: 0 });

    const tied = stateOf([
      { userId: 1, deliveredSeq: 2, readSeq: 2 },
      { userId: 2, deliveredSeq: 2, readSeq: 2 },
      { userId: 3, deliveredSeq: 9, readSeq: 9 },
    ]).progress();
    expect(tied(1)).toEqual({ delivered_up_to: 2, read_up_to: 2 });
  });

  it("moves with mark(): once the member behind catches up, the sender's progress follows", () => {
    const state = stateOf([
      { userId: 1, deliveredSeq: 10, readSeq: 10 },
      { userId: 2, deliveredSeq: 10, readSeq: 8 },
      { userId: 3, deliveredSeq: 4, readSeq: 1 },
    ]);
    expect(state.progress()(1)).toEqual({ delivered_up_to: 4, read_up_to: 1 });
    state.mark({ userId: 3, deliveredSeq: 10, readSeq: 10 });
    expect(state.progress()(1)).toEqual({ delivered_up_to: 10, read_up_to: 8 });
  });
});

describe("statusOf", () => {
  it("states the viewer's own messages as its progress says", () => {
    fc.assert(
      fc.property(memberMarks, fc.nat(9), fc.integer({ min: 1, max: MAX_SEQ + 2 }), (marks, index, seq) => {
        const viewerId = viewerOf(marks, index);
        const p = stateOf(marks).progress()(viewerId);
        expect(statusOf(statusView(viewerId, marks), { seq, senderId: viewerId })).toBe(byMarks(seq, p.delivered_up_to, p.read_up_to));
      }),
      { numRuns: 2000 },
    );
  });

  it("states others' messages by the viewer's own watermarks", () => {
    fc.assert(
      fc.property(memberMarks, fc.nat(9), fc.integer({ min: 1, max: MAX_SEQ + 2 }), fc.integer({ min: 1, max: 12 }), (marks, index, seq, senderId) => {
        const viewerId = viewerOf(marks, index);
        fc.pre(senderId !== viewerId);
        const mine = marks.find((m) => m.userId === viewerId) ?? { deliveredSeq: 0, readSeq: 0 };
        expect(statusOf(statusView(viewerId, marks), { seq, senderId })).toBe(byMarks(seq, mine.deliveredSeq, mine.readSeq));
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves a message "sent" when nobody else is in the conversation, whatever the sender has read', () => {
    const view = statusView(1, [{ userId: 1, deliveredSeq: 9, readSeq: 9 }]);
    expect(statusOf(view, { seq: 1, senderId: 1 })).toBe("sent");
    expect(statusOf(view, { seq: 9, senderId: 1 })).toBe("sent");
  });

  it("holds everyone's status back on the one member who is behind", () => {
    const marks = [
      { userId: 1, deliveredSeq: 10, readSeq: 10 },
      { userId: 2, deliveredSeq: 10, readSeq: 10 },
      { userId: 3, deliveredSeq: 10, readSeq: 10 },
      { userId: 4, deliveredSeq: 6, readSeq: 3 },
    ];
    const statuses = (viewerId: number) => [2, 5, 8].map((seq) => statusOf(statusView(viewerId, marks), { seq, senderId: viewerId }));
    expect(statuses(1)).toEqual(["read", "delivered", "sent"]);
    expect(statuses(2)).toEqual(["read", "delivered", "sent"]);
    // The member behind sees its own messages by the others' watermarks, all past them.
    expect(statuses(4)).toEqual(["read", "read", "read"]);
  });

  it("does not count the viewer's own watermarks for its own messages", () => {
    const view = statusView(1, [
      { userId: 1, deliveredSeq: 5, readSeq: 5 },
      { userId: 2, deliveredSeq: 0, readSeq: 0 },
    ]);
    expect(statusOf(view, { seq: 5, senderId: 1 })).toBe("sent");
    expect(statusOf(view, { seq: 5, senderId: 2 })).toBe("read");
  });
});

describe("statusRange", () => {
  const STATUSES = ["sent", "delivered", "read"] as const;
  const within = ([low, high]: [number, number], seq: number) => low < seq && seq <= high;

  it("puts every seq in exactly one status range, the one statusOf gives it", () => {
    fc.assert(
      fc.property(memberMarks, fc.nat(9), fc.boolean(), fc.integer({ min: 1, max: MAX_SEQ + 2 }), (marks, index, own, seq) => {
        const viewerId = viewerOf(marks, index);
        const view = statusView(viewerId, marks);
        const containing = STATUSES.filter((status) => within(statusRange(view, own, status), seq));
        expect(containing).toEqual([statusOf(view, { seq, senderId: own ? viewerId : viewerId + 100 })]);
      }),
      { numRuns: 2000 },
    );
  });

  it("splits a conversation's seqs at the watermarks", () => {
    const view = statusView(1, [
      { userId: 1, deliveredSeq: 7, readSeq: 6 },
      { userId: 2, deliveredSeq: 5, readSeq: 2 },
    ]);
    expect(STATUSES.map((s) => statusRange(view, true, s))).toEqual([
      [5, Number.MAX_SAFE_INTEGER],
      [2, 5],
      [0, 2],
    ]);
    expect(STATUSES.map((s) => statusRange(view, false, s))).toEqual([
      [7, Number.MAX_SAFE_INTEGER],
      [6, 7],
      [0, 6],
    ]);
  });

  it("puts all of a lone member's own messages in sent", () => {
    const view = statusView(1, [{ userId: 1, deliveredSeq: 4, readSeq: 4 }]);
    expect(STATUSES.map((s) => statusRange(view, true, s))).toEqual([
      [0, Number.MAX_SAFE_INTEGER],
      [0, 0],
      [0, 0],
    ]);
  });
});
