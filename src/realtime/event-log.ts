import type { InboxEvent } from "./stream-protocol";

/** The log keeps the last RETAIN_EVENTS events, none older than RETAIN_MS. */
const RETAIN_EVENTS = 1000;
const RETAIN_MS = 7 * 24 * 3600 * 1000;

type Meta = { user_id: number; last_seq: number; continuous_from: number; online: number };

/**
 * A user hub's numbered events in its own SQLite storage: the bounded log a stream resumes from. The
 * numbering is gap-free while the user stays online; going online again after being offline (when rooms
 * stopped telling the hub) skips one number, so a resume from before it can tell it missed events.
 */
export class EventLog {
  #created = false;

  constructor(private readonly store: SqlStorage) {}

  /**
   * The storage, its tables created on first use rather than when the hub wakes: a forged ticket wakes
   * any user's hub before anything is authenticated, and must not leave storage behind.
   */
  get sql(): SqlStorage {
    if (!this.#created) {
      this.store.exec("CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, frame TEXT NOT NULL)");
      this.store.exec(
        "CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), user_id INTEGER NOT NULL, last_seq INTEGER NOT NULL, continuous_from INTEGER NOT NULL, online INTEGER NOT NULL)",
      );
      this.store.exec("INSERT OR IGNORE INTO meta VALUES (1, 0, 0, 0, 0)");
      this.#created = true;
    }
    return this.store;
  }

  #meta(): Meta {
    return this.sql.exec<Meta>("SELECT user_id, last_seq, continuous_from, online FROM meta").one();
  }

  get lastSeq(): number {
    return this.#meta().last_seq;
  }

  get online(): boolean {
    return this.#meta().online === 1;
  }

  /** The hub's user (0 before its first stream). */
  get userId(): number {
    return this.#meta().user_id;
  }

  /** Online from now on: events numbered after this point are complete. */
  goOnline(userId: number): void {
    this.sql.exec("UPDATE meta SET user_id = ?, online = 1", userId);
    this.skip();
  }

  /** Events may be missing from here on: skips one number, so no resume from before it is served. */
  skip(): void {
    this.sql.exec("UPDATE meta SET last_seq = last_seq + 1, continuous_from = last_seq + 1");
  }

  goOffline(): void {
    this.sql.exec("UPDATE meta SET online = 0");
  }

  /** Numbers an event, keeps it, and returns its frame; trims what is past the retention bounds. */
  append(event: InboxEvent, now = Date.now()): string {
    const seq = this.sql.exec<{ last_seq: number }>("UPDATE meta SET last_seq = last_seq + 1 RETURNING last_seq").one().last_seq;
    const frame = JSON.stringify({ ...event, event_seq: seq });
    this.sql.exec("INSERT INTO events (seq, at, frame) VALUES (?, ?, ?)", seq, now, frame);
    this.sql.exec("DELETE FROM events WHERE seq <= ? OR at < ?", seq - RETAIN_EVENTS, now - RETAIN_MS);
    return frame;
  }

  /** The frames after `seq`, in order, or null when the log cannot give all of them (then: resync). */
  after(seq: number): string[] | null {
    const meta = this.#meta();
    if (seq > meta.last_seq || seq < meta.continuous_from) return null;
    const rows = this.sql.exec<{ seq: number; frame: string }>("SELECT seq, frame FROM events WHERE seq > ? ORDER BY seq", seq).toArray();
    // Trimmed past `seq`: the first kept event is not the next one.
    if (seq < meta.last_seq && rows[0]?.seq !== seq + 1) return null;
    return rows.map((r) => r.frame);
  }
}
