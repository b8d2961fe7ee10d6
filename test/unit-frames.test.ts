import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FloodGuard, type FrameBudget } from "../src/realtime/flood";
import { parseFrame } from "../src/realtime/socket-frames";

const frame = (value: unknown) => parseFrame(JSON.stringify(value));

/** The failure parseFrame gives, or a test failure naming the frame it accepted. */
function refusal(text: string) {
  const parsed = parseFrame(text);
  if ("frame" in parsed) throw new Error(`accepted ${text.slice(0, 80)}`);
  return parsed;
}

describe("parseFrame", () => {
  it("accepts send frames with and without a client_message_id", () => {
    expect(frame({ type: "send", message_body: "hello", client_message_id: "abc-1" })).toEqual({ frame: { type: "send", message_body: "hello", client_message_id: "abc-1" } });
    expect(frame({ type: "send", message_body: "hello" })).toEqual({ frame: { type: "send", message_body: "hello" } });
  });

  it("accepts a body of 4,000 code points, however many UTF-16 units they take", () => {
    const emoji = "😀".repeat(4000);
    expect(frame({ type: "send", message_body: emoji })).toEqual({ frame: { type: "send", message_body: emoji } });
    expect(frame({ type: "send", message_body: "\u0001".repeat(4000) })).toHaveProperty("frame");
    expect(frame({ type: "send", message_body: "x".repeat(4000) })).toHaveProperty("frame");
  });

  it("accepts receipts with delivered_up_to, read_up_to or both", () => {
    expect(frame({ type: "receipt", delivered_up_to: 3 })).toEqual({ frame: { type: "receipt", delivered_up_to: 3 } });
    expect(frame({ type: "receipt", read_up_to: 0 })).toEqual({ frame: { type: "receipt", read_up_to: 0 } });
    expect(frame({ type: "receipt", delivered_up_to: 5, read_up_to: 4 })).toEqual({ frame: { type: "receipt", delivered_up_to: 5, read_up_to: 4 } });
  });

  it("accepts typing and auth frames", () => {
    expect(frame({ type: "typing" })).toEqual({ frame: { type: "typing" } });
    expect(frame({ type: "auth", ticket: "t".repeat(43) })).toEqual({ frame: { type: "auth", ticket: "t".repeat(43) } });
  });

  it("answers invalid_json to text that is not JSON", () => {
    for (const text of ["{", "", "send hello", '{"type":"send",}']) expect(parseFrame(text)).toEqual({ code: "invalid_json", detail: "The frame is not valid JSON." });
  });

  it("answers unknown_type to a frame of no known type", () => {
    for (const value of [{ type: "shout", message_body: "hi" }, { message_body: "hi" }, { type: "SEND", message_body: "hi" }, [], 42, "send", null]) {
      expect(refusal(JSON.stringify(value)).code).toBe("unknown_type");
    }
  });

  it("answers invalid_frame naming message_body to an empty, blank or 4,001-character body", () => {
    for (const body of ["", "   \n\t ", "x".repeat(4001), "😀".repeat(4001)]) {
      const { code, detail } = refusal(JSON.stringify({ type: "send", message_body: body }));
      expect(code).toBe("invalid_frame");
      expect(detail).toContain("message_body");
    }
    expect(refusal(JSON.stringify({ type: "send" })).detail).toContain("message_body");
    expect(refusal(JSON.stringify({ type: "send", message_body: 7 })).detail).toContain("message_body");
  });

  it("answers invalid_frame naming client_message_id to one over 100 characters, empty, or with spaces", () => {
    expect(frame({ type: "send", message_body: "hi", client_message_id: "k".repeat(100) })).toHaveProperty("frame");
    for (const key of ["k".repeat(101), "", "has space", "é"]) {
      const { code, detail } = refusal(JSON.stringify({ type: "send", message_body: "hi", client_message_id: key }));
      expect(code).toBe("invalid_frame");
      expect(detail).toContain("client_message_id");
    }
  });

  it("answers invalid_frame to a receipt with neither watermark, saying which to give", () => {
    const { code, detail } = refusal(JSON.stringify({ type: "receipt" }));
    expect(code).toBe("invalid_frame");
    expect(detail).toContain("delivered_up_to");
    expect(detail).toContain("read_up_to");
  });

  it("answers invalid_frame naming the field to a receipt with a negative or fractional watermark", () => {
    expect(refusal(JSON.stringify({ type: "receipt", read_up_to: -1 }))).toMatchObject({ code: "invalid_frame", detail: expect.stringContaining("read_up_to") });
    expect(refusal(JSON.stringify({ type: "receipt", delivered_up_to: 1.5 }))).toMatchObject({ code: "invalid_frame", detail: expect.stringContaining("delivered_up_to") });
  });

  it("answers invalid_frame naming ticket to an auth frame without one", () => {
    for (const value of [{ type: "auth" }, { type: "auth", ticket: "" }, { type: "auth", ticket: "t".repeat(201) }]) {
      expect(refusal(JSON.stringify(value))).toMatchObject({ code: "invalid_frame", detail: expect.stringContaining("ticket") });
    }
  });

  it("never throws, whatever the text", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.record({ type: fc.constantFrom("send", "receipt", "typing", "auth"), message_body: fc.string(), read_up_to: fc.integer() }).map((v) => JSON.stringify(v))), (text) => {
        const parsed = parseFrame(text);
        expect("frame" in parsed || ["invalid_json", "unknown_type", "invalid_frame"].includes(parsed.code)).toBe(true);
      }),
    );
  });
});

describe("FloodGuard", () => {
  const budget: FrameBudget = { perSecond: 10, burst: 30 };
  /** A socket as the guard sees one: only a WeakMap key. */
  const socket = () => ({}) as WebSocket;
  const T0 = 1_000_000;

  it("lets a burst of 30 frames through at once and limits the 31st, saying to retry in at least a second", () => {
    const guard = new FloodGuard();
    const ws = socket();
    for (let i = 0; i < 30; i++) expect(guard.check(ws, budget, T0)).toEqual({ kind: "ok" });
    const verdict = guard.check(ws, budget, T0);
    expect(verdict.kind).toBe("limited");
    expect(verdict.kind === "limited" && verdict.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it("refills 10 frames a second: after a spent burst and one second, 10 more go through and the 11th does not", () => {
    const guard = new FloodGuard();
    const ws = socket();
    for (let i = 0; i < 30; i++) guard.check(ws, budget, T0);
    for (let i = 0; i < 10; i++) expect(guard.check(ws, budget, T0 + 1000)).toEqual({ kind: "ok" });
    expect(guard.check(ws, budget, T0 + 1000).kind).toBe("limited");
  });

  it("counts a dropped frame against the budget too: a second after the 31st was dropped, 9 more go through", () => {
    const guard = new FloodGuard();
    const ws = socket();
    for (let i = 0; i < 31; i++) guard.check(ws, budget, T0);
    const kinds = Array.from({ length: 10 }, () => guard.check(ws, budget, T0 + 1000).kind);
    expect(kinds).toEqual([...Array<string>(9).fill("ok"), "limited"]);
  });

  it("lets the dropped frame through once its retry_after has passed", () => {
    const guard = new FloodGuard();
    const ws = socket();
    for (let i = 0; i < 30; i++) guard.check(ws, budget, T0);
    const dropped = guard.check(ws, budget, T0);
    if (dropped.kind !== "limited") throw new Error(`expected limited, got ${dropped.kind}`);
    expect(guard.check(ws, budget, T0 + dropped.retryAfterSeconds * 1000)).toEqual({ kind: "ok" });
  });

  it("never refills past the burst, however long the socket was quiet", () => {
    const guard = new FloodGuard();
    const ws = socket();
    guard.check(ws, budget, T0);
    const later = T0 + 3_600_000;
    for (let i = 0; i < 30; i++) expect(guard.check(ws, budget, later).kind).toBe("ok");
    expect(guard.check(ws, budget, later).kind).toBe("limited");
  });

  it('calls it a flood only past 10 bursts of debt: frames 31 to 330 at once are limited, the 331st is "flood"', () => {
    const guard = new FloodGuard();
    const ws = socket();
    const kinds = Array.from({ length: 331 }, () => guard.check(ws, budget, T0).kind);
    expect(kinds.slice(0, 30).every((k) => k === "ok")).toBe(true);
    expect(kinds.slice(30, 330).every((k) => k === "limited")).toBe(true);
    expect(kinds[330]).toBe("flood");
  });

  it("keeps each socket's budget to itself", () => {
    const guard = new FloodGuard();
    const [noisy, quiet] = [socket(), socket()];
    for (let i = 0; i < 100; i++) guard.check(noisy, budget, T0);
    expect(guard.check(noisy, budget, T0).kind).toBe("limited");
    expect(guard.check(quiet, budget, T0)).toEqual({ kind: "ok" });
  });

  it("never limits a socket that keeps to 10 frames a second", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 100, max: 5000 }), { minLength: 1, maxLength: 300 }), (gaps) => {
        const guard = new FloodGuard();
        const ws = socket();
        let now = T0;
        for (const gap of gaps) {
          now += gap;
          expect(guard.check(ws, budget, now)).toEqual({ kind: "ok" });
        }
      }),
    );
  });

  it("after any history, a limited frame resent after its retry_after goes through", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 400 }), (gaps) => {
        const guard = new FloodGuard();
        const ws = socket();
        let now = T0;
        for (const gap of gaps) {
          now += gap;
          const verdict = guard.check(ws, budget, now);
          if (verdict.kind === "flood") return;
          if (verdict.kind === "limited") {
            expect(verdict.retryAfterSeconds).toBeGreaterThanOrEqual(1);
            now += verdict.retryAfterSeconds * 1000;
            expect(guard.check(ws, budget, now)).toEqual({ kind: "ok" });
          }
        }
      }),
    );
  });
});
