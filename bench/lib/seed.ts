// What the benchmark needs: users with real tokens and conversations through the API, the bulk
// (fan-out members, a long history, a user in many conversations) through SQL while the server is stopped.
import { createHash, randomBytes } from "node:crypto";
import type { HeyClient, Session } from "../../scripts/http-client";
import { lit } from "./sql";

const SCOPES = "read:messages send:messages manage:conversations profile";

/** Runs `work` over `items`, at most `limit` at a time, keeping order. */
export async function pool<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i]!, i);
      }
    }),
  );
  return out;
}

export async function createConversation(api: HeyClient, owner: Session, others: number[], title: string): Promise<number> {
  const res = await api.json("/api/conversations/", { method: "POST", token: owner.token, body: { participants: others, title } });
  if (res.status !== 201) throw new Error(`create conversation: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as number;
}

export type Fixture = {
  clientId: string;
  /** Users who send; all are participants of `one`, `oneNoGroupCommit` and every `spread` conversation. */
  senders: Session[];
  /** A user in `chats` conversations, the history conversation among them. */
  reader: Session;
  one: number;
  oneNoGroupCommit: number;
  spread: number[];
  fan: number;
  history: number;
  /** Sends straight into the room (the room-alone row) and the REST sends whose D1 calls are counted. */
  room: number;
};

/** Everything that goes through the API (sign-up and the OAuth flow, conversation creation). */
export async function seedThroughApi(api: HeyClient, options: { senders: number; spread: number }): Promise<Fixture> {
  const clientId = await api.registerClient();
  const users = await pool(Array.from({ length: options.senders + 1 }), 3, (_, i) => api.signUpAndLogin(clientId, `bench-${i}-${randomBytes(3).toString("hex")}`));
  const reader = users.pop()!;
  const senders = users;
  const [owner, ...rest] = senders;
  const others = rest.map((s) => s.userId);
  const one = await createConversation(api, owner!, others, "bench: one conversation");
  const oneNoGroupCommit = await createConversation(api, owner!, others, "bench: one conversation, group commit off");
  const spread = await pool(Array.from({ length: options.spread }), 8, (_, i) => createConversation(api, owner!, others, `bench: spread ${i + 1}`));
  const fan = await createConversation(api, owner!, [], "bench: fan-out");
  const history = await createConversation(api, reader, [owner!.userId], "bench: history");
  const room = await createConversation(api, owner!, others, "bench: room alone");
  return { clientId, senders, reader, one, oneNoGroupCommit, spread, fan, history, room };
}

export type Member = { userId?: number; email: string; token: string };

/**
 * SQL for the bulk: `members` users with live access tokens in the fan-out conversation, `history`
 * messages in the history conversation, and `chats - 1` more conversations for the reader (each with one
 * unread message), so the reader is in `chats` conversations. Returns the SQL and the members' tokens.
 */
export function bulkSql(f: Fixture, options: { members: number; history: number; chats: number }): { sql: string; members: Member[] } {
  const now = Date.now();
  const tag = randomBytes(4).toString("hex");
  const members: Member[] = Array.from({ length: options.members }, (_, i) => ({ email: `fan-${tag}-${i + 1}@bench.example`, token: randomBytes(32).toString("base64url") }));
  const peer = f.senders[0]!.userId;
  const n = options.history;
  const base = now - n * 1000 - 3_600_000;
  const sql: string[] = [];
  if (members.length) {
    sql.push(
      `INSERT INTO users (email, password_hash, first_name) VALUES ${members.map((m, i) => `(${lit(m.email)}, '!', ${lit(`Member ${i + 1}`)})`).join(", ")};`,
      `INSERT INTO oauth_grants (id, user_id, client_id, scopes) SELECT 'bench-' || id, id, ${lit(f.clientId)}, ${lit(SCOPES)} FROM users WHERE email LIKE ${lit(`fan-${tag}-%`)};`,
      `INSERT INTO oauth_tokens (hash, kind, grant_id, scopes, expires_at) SELECT t.column2, 'access', 'bench-' || u.id, ${lit(SCOPES)}, ${now + 4 * 3_600_000} FROM (VALUES ${members
        .map((m) => `(${lit(m.email)}, ${lit(createHash("sha256").update(m.token).digest("hex"))})`)
        .join(", ")}) AS t JOIN users u ON u.email = t.column1;`,
      `INSERT INTO participants (conversation_id, user_id, joined_at) SELECT ${f.fan}, id, ${now} FROM users WHERE email LIKE ${lit(`fan-${tag}-%`)};`,
    );
  }
  if (n > 0) {
    sql.push(
      `INSERT INTO messages (conversation_id, seq, sender_id, body, sent_at) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${n}) ` +
        `SELECT ${f.history}, i, CASE i % 2 WHEN 0 THEN ${f.reader.userId} ELSE ${peer} END, 'history message ' || i || ': the quick brown fox jumps over the lazy dog', ${base} + i * 1000 FROM n;`,
      `UPDATE conversations SET last_seq = ${n}, last_message_at = ${base + n * 1000}, last_activity_at = ${base + n * 1000}, updated_at = ${base + n * 1000} WHERE id = ${f.history};`,
      `UPDATE participants SET delivered_seq = ${n}, delivered_at = ${base + n * 1000}, read_seq = ${n}, read_at = ${base + n * 1000} WHERE conversation_id = ${f.history};`,
    );
  }
  const more = options.chats - 1;
  if (more > 0) {
    const title = `bench chat ${tag} `;
    const mine = `SELECT id FROM conversations WHERE title LIKE ${lit(`${title}%`)}`;
    sql.push(
      `INSERT INTO conversations (title, owner_id, created_at, updated_at, last_seq, last_message_at, last_activity_at) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${more}) ` +
        `SELECT ${lit(title)} || i, ${peer}, ${base} + i * 1000, ${base} + i * 1000, 1, ${base} + i * 1000, ${base} + i * 1000 FROM n;`,
      `INSERT INTO participants (conversation_id, user_id, joined_at, delivered_seq, read_seq) SELECT id, ${f.reader.userId}, ${base}, 1, 0 FROM (${mine});`,
      `INSERT INTO participants (conversation_id, user_id, joined_at, delivered_seq, read_seq) SELECT id, ${peer}, ${base}, 1, 1 FROM (${mine});`,
      `INSERT INTO messages (conversation_id, seq, sender_id, body, sent_at) SELECT id, 1, ${peer}, 'hello from ' || title, last_message_at FROM conversations WHERE title LIKE ${lit(`${title}%`)};`,
    );
  }
  return { sql: sql.join("\n"), members };
}
