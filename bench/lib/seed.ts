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
 * A message's API id is its shard's row id × SHARD_SLOTS + the shard's index: src/db/shards.ts's constant,
 * repeated (bench/ is typechecked for Node, src/ for Workers); run.ts reads a seeded id back through the API.
 */
export const SHARD_SLOTS = 1024;

/** Runs SQL against one local D1 (DB or MESSAGES_<n>) of a stopped server; each statement's rows. */
export type Exec = (binding: string, sql: string) => Promise<Record<string, unknown>[][]>;

export type BulkOptions = {
  members: number;
  history: number;
  chats: number;
  /** Messages in each conversation seeded for the chat list (at most 999). */
  chatMessages: number;
  /** Message shards bound (MESSAGES_0 … MESSAGES_<shards − 1>): the seeded conversations are spread over them. */
  shards: number;
};

export type Bulk = {
  members: Member[];
  /** A user in `chats` conversations (seeded ones only, spread over the shards), for the list across conversations; null without chats. */
  across: Member | null;
  /** Messages seeded per shard, by shard index. */
  messagesPerShard: number[];
  /** The shard holding the history conversation. */
  historyShard: number;
};

const chunks = <T>(xs: T[], size: number) => Array.from({ length: Math.ceil(xs.length / size) }, (_, i) => xs.slice(i * size, (i + 1) * size));

/**
 * The bulk, through SQL while the server is stopped: `members` users with live access tokens in the
 * fan-out conversation; `history` messages in the history conversation; `chats` more conversations, each
 * with `chatMessages` messages (the newest unread by the reader), spread round-robin over the shards:
 * the reader is in `chats − 1` of them (so in `chats` with the history), the `across` user in all of them.
 * Messages go to their conversation's shard (the `shard` column; the API seeded ones where the server put
 * them), and each conversation's row gets the copy of its last message the chat list reads (last_seq,
 * last_message_id as the shard numbered it, …), and message_shards counts the new conversations: the
 * state a room's flushes would have left. Three steps: the main database (which names the conversations
 * and their shards), each shard (which numbers the rows), the main database again (the last messages' ids).
 */
export async function seedBulk(exec: Exec, f: Fixture, options: BulkOptions): Promise<Bulk> {
  const now = Date.now();
  const tag = randomBytes(4).toString("hex");
  const members: Member[] = Array.from({ length: options.members }, (_, i) => ({ email: `fan-${tag}-${i + 1}@bench.example`, token: randomBytes(32).toString("base64url") }));
  const across: Member | null = options.chats > 0 ? { email: `across-${tag}@bench.example`, token: randomBytes(32).toString("base64url") } : null;
  const peer = f.senders[0]!.userId;
  const n = options.history;
  const k = Math.min(999, Math.max(1, options.chatMessages));
  const base = now - n * 1000 - 3_600_000;
  const title = `bench chat ${tag} `;
  const historyBody = (i: number) => `history message ${i}: the quick brown fox jumps over the lazy dog`;

  // 1. The main database: users with tokens, the conversations and their members; it names their shards.
  const main: string[] = [];
  const withTokens = [...members, ...(across ? [across] : [])];
  if (withTokens.length) {
    const emails = `(${withTokens.map((m) => lit(m.email)).join(", ")})`;
    main.push(
      `INSERT INTO users (email, password_hash, first_name) VALUES ${withTokens.map((m, i) => `(${lit(m.email)}, '!', ${lit(m === across ? "Across" : `Member ${i + 1}`)})`).join(", ")};`,
      `INSERT INTO oauth_grants (id, user_id, client_id, scopes) SELECT 'bench-' || id, id, ${lit(f.clientId)}, ${lit(SCOPES)} FROM users WHERE email IN ${emails};`,
      `INSERT INTO oauth_tokens (hash, kind, grant_id, scopes, expires_at) SELECT t.column2, 'access', 'bench-' || u.id, ${lit(SCOPES)}, ${now + 4 * 3_600_000} FROM (VALUES ${withTokens
        .map((m) => `(${lit(m.email)}, ${lit(createHash("sha256").update(m.token).digest("hex"))})`)
        .join(", ")}) AS t JOIN users u ON u.email = t.column1;`,
    );
  }
  if (members.length) {
    main.push(`INSERT INTO participants (conversation_id, user_id, joined_at) SELECT ${f.fan}, id, ${now} FROM users WHERE email LIKE ${lit(`fan-${tag}-%`)};`);
  }
  if (n > 0) {
    main.push(`UPDATE participants SET delivered_seq = ${n}, delivered_at = ${base + n * 1000}, read_seq = ${n}, read_at = ${base + n * 1000} WHERE conversation_id = ${f.history};`);
  }
  const chats = options.chats;
  const mine = `SELECT id FROM conversations WHERE title LIKE ${lit(`${title}%`)}`;
  if (chats > 0) {
    // Conversation i's messages j = 1…k were sent at base + i·1000 + j; the last (j = k) is the row's copy.
    const last = (i: string) => `${base} + ${i} * 1000 + ${k}`;
    main.push(
      `INSERT INTO conversations (title, owner_id, created_at, updated_at, last_seq, last_message_at, last_activity_at, shard, last_sender_id, last_body) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${chats}) ` +
        `SELECT ${lit(title)} || i, ${peer}, ${base} + i * 1000, ${last("i")}, ${k}, ${last("i")}, ${last("i")}, (i - 1) % ${options.shards}, ${peer}, 'hello ${k} from ' || ${lit(title)} || i FROM n;`,
      `INSERT INTO message_shards (shard, conversations) SELECT shard, count(*) FROM conversations WHERE title LIKE ${lit(`${title}%`)} GROUP BY shard ON CONFLICT (shard) DO UPDATE SET conversations = conversations + excluded.conversations;`,
      `INSERT INTO participants (conversation_id, user_id, joined_at, delivered_seq, read_seq) SELECT id, ${f.reader.userId}, ${base}, ${k}, ${k - 1} FROM (${mine} ORDER BY id LIMIT ${chats - 1});`,
      `INSERT INTO participants (conversation_id, user_id, joined_at, delivered_seq, read_seq) SELECT id, ${peer}, ${base}, ${k}, ${k} FROM (${mine});`,
      `INSERT INTO participants (conversation_id, user_id, joined_at, delivered_seq, read_seq) SELECT c.id, u.id, ${base}, ${k}, ${k} FROM (${mine}) c, users u WHERE u.email = ${lit(across!.email)};`,
    );
  }
  main.push(`SELECT id, shard, title FROM conversations WHERE id = ${f.history} OR title LIKE ${lit(`${title}%`)} ORDER BY id;`);
  if (across) main.push(`SELECT id FROM users WHERE email = ${lit(across.email)};`);
  const answers = await exec("DB", main.join("\n"));
  const named = answers.at(across ? -2 : -1)!.map((r) => ({ id: Number(r.id), shard: Number(r.shard), title: String(r.title ?? "") }));
  if (across) across.userId = Number(answers.at(-1)![0]!.id);
  const history = named.find((c) => c.id === f.history);
  if (!history) throw new Error(`seeding: no history conversation ${f.history}`);
  if (named.some((c) => c.shard < 0 || c.shard >= options.shards)) throw new Error(`seeding: a conversation is on a shard not bound (${options.shards} bound)`);

  // 2. Each shard: the messages of its conversations, then the newest one of each as the shard numbered it.
  const seeded = named.filter((c) => c.id !== f.history);
  const lastIds = new Map<number, number>();
  const messagesPerShard = Array.from({ length: options.shards }, () => 0);
  for (let shard = 0; shard < options.shards; shard++) {
    const sql: string[] = [];
    const ids: number[] = [];
    if (n > 0 && history.shard === shard) {
      ids.push(f.history);
      messagesPerShard[shard]! += n;
      sql.push(
        `INSERT INTO messages (conversation_id, seq, sender_id, body, sent_at) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${n}) ` +
          `SELECT ${f.history}, i, CASE i % 2 WHEN 0 THEN ${f.reader.userId} ELSE ${peer} END, 'history message ' || i || ': the quick brown fox jumps over the lazy dog', ${base} + i * 1000 FROM n;`,
      );
    }
    // [conversation id, i] of this shard's seeded conversations (i: the number in its title).
    const here = seeded.filter((c) => c.shard === shard).map((c) => [c.id, Number(c.title.slice(title.length))] as const);
    if (here.length) {
      ids.push(...here.map(([id]) => id));
      messagesPerShard[shard]! += here.length * k;
      const pairs = lit(JSON.stringify(here));
      sql.push(
        `INSERT INTO messages (conversation_id, seq, sender_id, body, sent_at) WITH RECURSIVE n(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM n WHERE j < ${k}) ` +
          `SELECT json_extract(c.value, '$[0]'), n.j, ${peer}, 'hello ' || n.j || ' from ' || ${lit(title)} || json_extract(c.value, '$[1]'), ${base} + json_extract(c.value, '$[1]') * 1000 + n.j FROM json_each(${pairs}) c, n ORDER BY 1, 2;`,
      );
    }
    if (!ids.length) continue;
    sql.push(
      `SELECT m.conversation_id AS c, m.id * ${SHARD_SLOTS} + ${shard} AS id FROM messages m JOIN (SELECT conversation_id, max(seq) AS seq FROM messages WHERE conversation_id IN (${ids.join(",")}) GROUP BY conversation_id) t ON t.conversation_id = m.conversation_id AND t.seq = m.seq;`,
    );
    const rows = (await exec(`MESSAGES_${shard}`, sql.join("\n"))).at(-1)!;
    for (const r of rows) lastIds.set(Number(r.c), Number(r.id));
  }

  // 3. The main database: each conversation's copy of its last message gets that message's id.
  const after: string[] = [];
  if (n > 0) {
    const at = base + n * 1000;
    after.push(
      `UPDATE conversations SET last_seq = ${n}, last_message_at = ${at}, last_activity_at = ${at}, updated_at = ${at}, last_message_id = ${lastIds.get(f.history)}, ` +
        `last_sender_id = ${n % 2 === 0 ? f.reader.userId : peer}, last_body = ${lit(historyBody(n))}, last_client_message_id = NULL, last_edited_at = NULL, last_deleted = 0 WHERE id = ${f.history};`,
    );
  }
  for (const part of chunks(seeded, 500)) {
    after.push(`UPDATE conversations SET last_message_id = v.column2 FROM (VALUES ${part.map((c) => `(${c.id}, ${lastIds.get(c.id)})`).join(", ")}) AS v WHERE conversations.id = v.column1;`);
  }
  const missing = [...(n > 0 ? [f.history] : []), ...seeded.map((c) => c.id)].filter((id) => !lastIds.has(id));
  if (missing.length) throw new Error(`seeding: no last message read back for conversations ${missing.slice(0, 10).join(", ")}`);
  if (after.length) await exec("DB", after.join("\n"));
  return { members, across, messagesPerShard, historyShard: history.shard };
}
