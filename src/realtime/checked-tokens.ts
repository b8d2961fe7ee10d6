import type { AuthContext } from "../http/auth-context";

/**
 * How long a room trusts a token it checked without reading it again. Revocations, deactivations and
 * removals reach the room at once (`forget`); this bounds what could still miss it (a failed call), and
 * how old the names and block list a REST send answers with may be.
 */
const TRUST_MS = 30_000;
/** Tokens a room remembers; the oldest go first. */
const MOST = 512;

type Kept = { access: AuthContext; until: number };

/**
 * The access tokens of REST sends a room checked, by hash: a member's later sends skip the token's read
 * on the main database, as a socket's frames do, so a send costs the client one round trip (the flush).
 * Only members' live tokens are kept; reads under way are shared by a burst but kept apart, so tokens
 * nobody was given never push a member's out. A read still under way when the room forgets anything (or
 * gains a member) is not kept, so no send that arrives after a revocation reached the room uses an answer
 * read before it.
 */
export class CheckedTokens {
  readonly #kept = new Map<string, Kept>();
  readonly #reading = new Map<string, Promise<AuthContext | null>>();

  /** `read`: the token's identity as the main database's primary has it (null: not a live access token). */
  constructor(private readonly read: (hash: string) => Promise<AuthContext | null>) {}

  /** The identity behind the token, remembered while `keep` holds for it when read. */
  check(hash: string, keep: (access: AuthContext) => boolean): Promise<AuthContext | null> {
    const kept = this.#kept.get(hash);
    if (kept && kept.until > Date.now()) return Promise.resolve(kept.access);
    this.#kept.delete(hash);
    const under = this.#reading.get(hash);
    if (under) return under;
    const reading = this.read(hash);
    this.#reading.set(hash, reading);
    const done = () => this.#reading.get(hash) === reading && this.#reading.delete(hash);
    reading.then((access) => {
      if (!done() || !access || !keep(access)) return;
      this.#kept.set(hash, { access, until: Math.min(Date.now() + TRUST_MS, access.expiresAt) });
      if (this.#kept.size > MOST) this.#kept.delete(this.#kept.keys().next().value!);
    }, done);
    return reading;
  }

  /** Forgets a user's tokens, or those of grants, and every read still under way (`{}`: only those). */
  forget(target: { userId?: number; grantIds?: readonly string[] }): void {
    this.#reading.clear();
    for (const [hash, { access }] of this.#kept) {
      if (access.userId === target.userId || target.grantIds?.includes(access.grantId)) this.#kept.delete(hash);
    }
  }
}
