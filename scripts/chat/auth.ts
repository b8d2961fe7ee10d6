// The client's tokens: the access token in use, and the refresh token that renews it (rotated on every use).
import { clause, detailOf } from "./format";

/** The session cannot go on: no refresh token, or the server refused it. */
export class AuthEnded extends Error {}

const NO_REFRESH =
  "There is no refresh token to renew the access token: set HEY_REFRESH (and HEY_CLIENT_ID if it is not hey-web), " +
  "or get a new token with npm run token.";

export class Auth {
  #refreshing: Promise<void> | null = null;
  #timer: NodeJS.Timeout | undefined;
  #ended: string | null = null;
  /** Whether the refresh token given at start has been spent (the new one must be used next time). */
  rotated = false;
  /** Called after every refresh, with the new access token in `access`. */
  onRefresh: () => void = () => {};

  constructor(
    readonly url: string,
    public access: string | null,
    public refreshToken: string | null,
    readonly clientId: string,
  ) {}

  get canRefresh(): boolean {
    return this.refreshToken !== null;
  }

  /**
   * Spends the refresh token for a new pair, one refresh at a time (presenting a spent refresh token
   * revokes the whole grant). Throws AuthEnded when it cannot; other errors are worth retrying. With
   * `stale` (the token the server refused), nothing happens if that token was already replaced.
   */
  refresh(stale?: string | null): Promise<void> {
    // Another caller already replaced the token that was refused: use the new one.
    if (stale !== undefined && stale !== this.access && this.access !== null && !this.#refreshing) return Promise.resolve();
    this.#refreshing ??= this.#refresh().finally(() => (this.#refreshing = null));
    return this.#refreshing;
  }

  async #refresh(): Promise<void> {
    if (!this.refreshToken) throw new AuthEnded(this.#ended ?? NO_REFRESH);
    const res = await fetch(new URL("/o/token/", this.url), {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: this.refreshToken, client_id: this.clientId }),
    });
    const text = await res.text();
    if (res.status === 429 || res.status >= 500) throw new Error(`The token endpoint answered ${res.status}: ${detailOf(res.status, text)}`);
    if (!res.ok) {
      this.refreshToken = null;
      this.#ended = `The refresh token was refused (${clause(detailOf(res.status, text))}); get a new token with npm run token.`;
      throw new AuthEnded(this.#ended);
    }
    const pair = JSON.parse(text) as { access_token: string; refresh_token: string; expires_in: number };
    this.access = pair.access_token;
    this.refreshToken = pair.refresh_token;
    this.rotated = true;
    this.#schedule(pair.expires_in);
    this.onRefresh();
  }

  /** Renews the token a minute (or a tenth of its life) before it expires, so the socket never has to drop. */
  #schedule(expiresIn: number): void {
    clearTimeout(this.#timer);
    const lead = Math.min(60, expiresIn / 10);
    this.#timer = setTimeout(() => void this.#renew(), Math.max(1, expiresIn - lead) * 1000);
    this.#timer.unref();
  }

  async #renew(attempt = 0): Promise<void> {
    try {
      await this.refresh();
    } catch (error) {
      // A refused refresh ends the session at expiry (close 4001); a network error is retried shortly.
      if (!(error instanceof AuthEnded) && attempt < 5) {
        this.#timer = setTimeout(() => void this.#renew(attempt + 1), 5_000 * (attempt + 1));
        this.#timer.unref();
      }
    }
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}
