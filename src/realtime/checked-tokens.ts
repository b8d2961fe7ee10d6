import type { AuthContext } from "../http/auth-context";

/**
 * How long a room trusts a token it checked without reading it again. Revocations, deactivations and
 * removals reach the room at once (`forget`); this bounds what could still miss it (a failed call), and
 * how old the names and block list a REST send answers with may be.
 */
const TRUST_MS = 30_000;
/** Tokens a room remembers; the oldest go first. */
const MOST = 512;

type Entry = { access: Promise<AuthContext | null>; until: number; userId: number | null; grantId: string | null };

/**
 * The access tokens of REST sends a room checked, by hash: a member's later sends skip the token's read
 * on the main database, as a socket's frames do, so a send costs the client one round trip (the flush).
 * Only members' live tokens are kept. A read still under way when the room forgets anything is dropped
 * with it, so no send that arrives after a revocation reached the room uses an answer read before it.
 */
export class CheckedTokens {
  readonly #entries = new Map<string, Entry>();
  #generation = 0;

  /** `read`: the token's identity as the main database's primary has it (null: not a live access token). */
  constructor(private readonly read: (hash: string) => Promise<AuthContext | null>) {}

  /** The identity behind the token, remembered while `keep` holds for it when read. */
  check(hash: string, keep: (access: AuthContext) => boolean): Promise<AuthContext | null> {
    const now = Date.now();
    const held = this.#entries.get(hash);
    if (held && held.until > now) return held.access;
    const generation = this.#generation;
    const entry: Entry = { access: this.read(hash), until: now + TRUST_MS, userId: null, grantId: null };
    this.#entries.delete(hash);
    this.#entries.set(hash, entry);
    if (this.#entries.size > MOST) this.#entries.delete(this.#entries.keys().next().value!);
    const drop = () => this.#entries.get(hash) === entry && this.#entries.delete(hash);
    entry.access.then((access) => {
      if (!access || !keep(access) || generation !== this.#generation) return drop();
      entry.until = Math.min(entry.until, access.expiresAt);
      entry.userId = access.userId;
      entry.grantId = access.grantId;
    }, drop);
    return entry.access;
  }

  /** Forgets a user's tokens, or those of grants, and every read still under way. */
  forget(target: { userId?: number; grantIds?: readonly string[] }): void {
    this.#generation++;
    for (const [hash, e] of this.#entries) {
      if (e.userId === null || e.userId === target.userId || (e.grantId !== null && target.grantIds?.includes(e.grantId))) this.#entries.delete(hash);
    }
  }
}
