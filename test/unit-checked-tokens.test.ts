import { describe, expect, it } from "vitest";
import type { AuthContext } from "../src/http/auth-context";
import { CheckedTokens } from "../src/realtime/checked-tokens";

/** A token's identity as the main database would give it. */
const access = (userId: number, grantId: string, expiresAt = Date.now() + 3_600_000) => ({ userId, grantId, expiresAt }) as AuthContext;

/** A room's tokens over a table of live tokens, counting the reads that reach it. */
function tokensOver(live: Map<string, AuthContext>) {
  const reads: string[] = [];
  let gate: Promise<void> = Promise.resolve();
  const tokens = new CheckedTokens(async (hash) => {
    reads.push(hash);
    const found = live.get(hash) ?? null;
    await gate;
    return found;
  });
  return { tokens, reads, holdReads: (until: Promise<void>) => (gate = until) };
}

const member = () => true;

describe("the tokens a room remembers", () => {
  it("reads a member's token once for many sends, even a burst that arrives before the first read answers", async () => {
    const { tokens, reads } = tokensOver(new Map([["h1", access(1, "g1")]]));
    const burst = await Promise.all([tokens.check("h1", member), tokens.check("h1", member), tokens.check("h1", member)]);
    expect(burst.map((a) => a?.userId)).toEqual([1, 1, 1]);
    expect((await tokens.check("h1", member))?.userId).toBe(1);
    expect(reads).toEqual(["h1"]);
  });

  it("keeps neither unknown tokens nor those of non-members: each check reads again", async () => {
    const { tokens, reads } = tokensOver(new Map([["h1", access(1, "g1")]]));
    expect(await tokens.check("nope", member)).toBeNull();
    expect(await tokens.check("nope", member)).toBeNull();
    expect(await tokens.check("h1", () => false)).toMatchObject({ userId: 1 });
    expect(await tokens.check("h1", () => false)).toMatchObject({ userId: 1 });
    expect(reads).toEqual(["nope", "nope", "h1", "h1"]);
  });

  it("forgets a user's tokens, or a grant's, and reads them again", async () => {
    const live = new Map([["h1", access(1, "g1")], ["h2", access(1, "g2")], ["h3", access(2, "g3")]]);
    const { tokens, reads } = tokensOver(live);
    for (const h of ["h1", "h2", "h3"]) await tokens.check(h, member);
    tokens.forget({ grantIds: ["g2"] });
    live.delete("h2");
    expect(await tokens.check("h2", member)).toBeNull();
    expect(await tokens.check("h1", member)).toMatchObject({ userId: 1 });
    tokens.forget({ userId: 1 });
    live.delete("h1");
    expect(await tokens.check("h1", member)).toBeNull();
    expect(await tokens.check("h3", member)).toMatchObject({ userId: 2 });
    expect(reads).toEqual(["h1", "h2", "h3", "h2", "h1"]);
  });

  it("does not keep a read that was under way when it forgot: a later check reads again", async () => {
    const live = new Map([["h1", access(1, "g1")]]);
    const { tokens, reads, holdReads } = tokensOver(live);
    let release!: () => void;
    holdReads(new Promise((resolve) => (release = resolve)));
    const early = tokens.check("h1", member);
    // The revocation lands while the read is out: the read may have seen the token before it.
    live.delete("h1");
    tokens.forget({ grantIds: ["g1"] });
    release();
    expect(await early).toMatchObject({ userId: 1 });
    holdReads(Promise.resolve());
    expect(await tokens.check("h1", member)).toBeNull();
    expect(reads).toEqual(["h1", "h1"]);
  });

  it("keeps a member's token however many unknown tokens are tried, even all at once", async () => {
    const { tokens, reads } = tokensOver(new Map([["h1", access(1, "g1")]]));
    await tokens.check("h1", member);
    const tries = await Promise.all(Array.from({ length: 600 }, (_, i) => tokens.check(`guess-${i}`, member)));
    expect(tries.every((a) => a === null)).toBe(true);
    expect(await tokens.check("h1", member)).toMatchObject({ userId: 1 });
    expect(reads.filter((h) => h === "h1")).toHaveLength(1);
  });

  it("on a new member, drops only the reads under way (a revocation may have passed the room by)", async () => {
    const live = new Map([["h1", access(1, "g1")], ["h2", access(2, "g2")]]);
    const { tokens, reads, holdReads } = tokensOver(live);
    await tokens.check("h1", member);
    let release!: () => void;
    holdReads(new Promise((resolve) => (release = resolve)));
    const early = tokens.check("h2", member);
    tokens.forget({});
    release();
    await early;
    holdReads(Promise.resolve());
    await tokens.check("h1", member);
    await tokens.check("h2", member);
    expect(reads).toEqual(["h1", "h2", "h2"]);
  });

  it("reads a token again once it has expired", async () => {
    const { tokens, reads } = tokensOver(new Map([["h1", access(1, "g1", Date.now() + 30)]]));
    await tokens.check("h1", member);
    await new Promise((resolve) => setTimeout(resolve, 60));
    await tokens.check("h1", member);
    expect(reads).toEqual(["h1", "h1"]);
  });
});
