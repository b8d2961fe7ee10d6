// Reads through D1's Sessions API, so they may go to the nearest read replica while a client still reads
// its own writes: a response carries a bookmark per database it touched (X-Hey-Bookmark), and a request
// presenting it reads data at least that fresh. Writes, token checks and the rooms use the primary.
import { database, type Database } from "./client";
import { shardAt, type Shard } from "./shards";

/** The bookmark of each database, by binding name ("DB", "MESSAGES_0", …). */
export type Bookmarks = Map<string, string>;

/** A database this deployment binds, then a D1 bookmark (hex groups, as D1 writes them). */
const PART = /^(DB|MESSAGES_(0|[1-9]\d{0,3}))=([0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32})$/;

/**
 * Parses X-Hey-Bookmark (`DB=…,MESSAGES_1=…`) for a deployment of `shards` message shards; null when it
 * is not one Hey could have sent (a made-up value must not pin a client's reads, nor be echoed back).
 */
export function parseBookmarks(header: string, shards: number): Bookmarks | null {
  const bookmarks: Bookmarks = new Map();
  for (const part of header.split(",")) {
    const match = PART.exec(part.trim());
    if (!match || (match[2] !== undefined && Number(match[2]) >= shards) || bookmarks.has(match[1]!)) return null;
    bookmarks.set(match[1]!, match[3]!);
  }
  return bookmarks;
}

/** The newer of two bookmarks of one database: D1's bookmarks sort oldest to newest. */
const newer = (a: string | undefined, b: string | null | undefined) => (!a ? (b ?? undefined) : !b ? a : a > b ? a : b);

/** Every database `a` or `b` names, at the newer of their bookmarks. */
export function mergeBookmarks(a: Bookmarks, b: Bookmarks): Bookmarks {
  const merged = new Map(a);
  for (const [name, bookmark] of b) merged.set(name, newer(merged.get(name), bookmark)!);
  return merged;
}

export const formatBookmarks = (bookmarks: Bookmarks) => [...bookmarks].map(([name, bookmark]) => `${name}=${bookmark}`).join(",");

/** Bookmarks as they cross a Durable Object's RPC boundary (a plain object). */
export type WrittenBookmarks = Record<string, string>;

/**
 * A session on the primary for a write made on a client's behalf (in a room), and the bookmark it leaves,
 * which the client's response carries so its next read sees the write on any replica.
 */
export function writeSession(name: string, d1: D1Database) {
  const session = d1.withSession("first-primary");
  const written = (): WrittenBookmarks => {
    const bookmark = session.getBookmark();
    return bookmark ? { [name]: bookmark } : {};
  };
  return { session, written };
}

/** A write session on message shard `index`'s primary (see writeSession). */
export function shardWriteSession(env: Cloudflare.Env, index: number): { shard: Shard; written: () => WrittenBookmarks } {
  let written = (): WrittenBookmarks => ({});
  const shard = shardAt(env, index, (d1) => {
    const write = writeSession(`MESSAGES_${index}`, d1);
    written = write.written;
    return write.session;
  });
  return { shard, written };
}

/**
 * One request's read sessions, opened on first use: at the bookmark the client presented for that
 * database, or anywhere (`first-unconstrained`) when it presented none.
 */
export class ReadSessions {
  readonly #sessions = new Map<string, D1DatabaseSession>();
  #main: Database | null = null;
  /** Bookmarks of writes made for this request elsewhere (a room), for the response. */
  #written: Bookmarks = new Map();

  constructor(
    private readonly env: Cloudflare.Env,
    private readonly given: Bookmarks,
  ) {}

  #open(name: string, d1: D1Database): D1DatabaseSession {
    let session = this.#sessions.get(name);
    if (!session) {
      session = d1.withSession(this.given.get(name) ?? "first-unconstrained");
      this.#sessions.set(name, session);
    }
    return session;
  }

  /** The main database, for reads. */
  get main(): Database {
    return (this.#main ??= database(this.#open("DB", this.env.DB)));
  }

  /** Message shard `index`, for reads. */
  shard(index: number): Shard {
    return shardAt(this.env, index, (d1) => this.#open(`MESSAGES_${index}`, d1));
  }

  /** Records the bookmarks a write returned, so the response carries them. */
  wrote(bookmarks: WrittenBookmarks | undefined): void {
    if (bookmarks) this.#written = mergeBookmarks(this.#written, new Map(Object.entries(bookmarks)));
  }

  /** What the response carries: what the client gave, moved on by every session used and every write. */
  bookmarks(): Bookmarks {
    const used = new Map([...this.#sessions].map(([name, s]) => [name, s.getBookmark() ?? ""] as const).filter(([, b]) => b));
    return mergeBookmarks(mergeBookmarks(this.given, used), this.#written);
  }
}
