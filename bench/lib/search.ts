// The search scenario (issue 13): full-text search over the history conversation's messages, a common and
// a rare word, newest first and by rank; and the size on disk of the FTS5 index (messages_fts) against the
// messages table's, on the shard holding the history.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { Exec } from "./seed";

/** In every history body (`history message <i>: the quick brown fox jumps over the lazy dog`). */
export const COMMON_TERM = "fox";

/**
 * A number that is the token of exactly one history body, also as a prefix (the last word of a search
 * matches as one): the longest run of 7s not above `history`, so that no other seq (at most `history`,
 * with at most one digit more) starts with it: 777777 for 1,000,000. Chat bodies hold smaller numbers
 * (their seq and title number, up to BENCH_CHATS); the fixture check asserts the one hit.
 */
export function rareTerm(history: number): string {
  const digits = String(history).length;
  const sevens = "7".repeat(digits);
  return Number(sevens) <= history ? sevens : sevens.slice(1);
}

export type SearchCase = { name: string; path: string; term: string; order: "newest" | "rank" };

/** The four measured searches, as the history's reader (all of their conversations, as a search box asks). */
export function searchCases(history: number, limit: number): SearchCase[] {
  const rare = rareTerm(history);
  const matches = (n: number) => `${n.toLocaleString("en")} match${n === 1 ? "" : "es"}`;
  const path = (q: string, order: string) => `/api/search/messages/?q=${encodeURIComponent(q)}&order=${order}&limit=${limit}`;
  return [
    { name: `search: "${COMMON_TERM}" (${matches(history)}), newest first`, path: path(COMMON_TERM, "newest"), term: COMMON_TERM, order: "newest" },
    { name: `search: "${COMMON_TERM}" (${matches(history)}), by rank`, path: path(COMMON_TERM, "rank"), term: COMMON_TERM, order: "rank" },
    { name: `search: "${rare}" (${matches(1)}), newest first`, path: path(rare, "newest"), term: rare, order: "newest" },
    { name: `search: "${rare}" (${matches(1)}), by rank`, path: path(rare, "rank"), term: rare, order: "rank" },
  ];
}

/** A b-tree of the shard's SQLite file, as dbstat counts it. */
export type BTree = { name: string; pages: number; bytes: number; payload: number };

export type IndexSize = {
  /** The MESSAGES_<n> binding measured (the one holding the history) and its row count. */
  binding: string;
  messages: number;
  /** How the page figures were read (null: not available on this machine, see `note`). */
  method: string | null;
  note?: string;
  file?: string;
  fileBytes?: number;
  pageSize?: number;
  /** Pages in use of every b-tree: the index is every messages_fts_* shadow table (data, idx, docsize, config). */
  btrees?: BTree[];
  /** messages_fts_* together, the messages table's own b-tree, its indexes together; bytes on disk (pages × page size). */
  index?: number;
  table?: number;
  tableIndexes?: number;
  /** index / table, and index / (table + its indexes). */
  indexVsTable?: number;
  indexVsTableAndIndexes?: number;
  /** Through `wrangler d1 execute` (always): the index's stored bytes (segment blocks, per-document sizes) and the text it indexes. */
  d1: { segmentBlocks: number; segmentBytes: number; termPages: number; docsizeRows: number; docsizeBytes: number; bodyBytes: number };
};

function sqlite3(file: string, sql: string): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const child = spawn("sqlite3", ["-readonly", "-json", file, sql], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(out.trim() ? (JSON.parse(out) as Record<string, unknown>[]) : []) : reject(new Error(`sqlite3 ${file}: ${err.trim()}`))));
  });
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/**
 * The index's size against the table's on the shard holding `history`, its server stopped. Local D1 has
 * no dbstat (`no such table`) and refuses PRAGMA page_count/page_size (SQLITE_AUTH) and VACUUM, so pages
 * are counted by the `sqlite3` shell's dbstat on the shard's own file, read-only (the file `wrangler d1
 * execute --local` and both runtimes use: `<persistTo>/v3/d1/miniflare-D1DatabaseObject/<id>.sqlite`;
 * the one whose messages hold the history); without a `sqlite3` with dbstat, only the figures read
 * through D1 are given: the bytes of the index's segments and per-document sizes, and of the bodies.
 */
export async function indexSize(exec: Exec, persistTo: string, shard: number, history: number): Promise<IndexSize> {
  const binding = `MESSAGES_${shard}`;
  const [data, idx, docsize, bodies] = await exec(
    binding,
    `SELECT count(*) AS n, sum(length(block)) AS bytes FROM messages_fts_data;
     SELECT count(*) AS n FROM messages_fts_idx;
     SELECT count(*) AS n, sum(length(sz)) AS bytes FROM messages_fts_docsize;
     SELECT count(*) AS n, sum(length(CAST(body AS BLOB))) AS bytes FROM messages;`,
  );
  const num = (rows: Record<string, unknown>[] | undefined, key: string) => Number(rows?.[0]?.[key] ?? 0);
  const base: IndexSize = {
    binding,
    messages: num(bodies, "n"),
    method: null,
    d1: { segmentBlocks: num(data, "n"), segmentBytes: num(data, "bytes"), termPages: num(idx, "n"), docsizeRows: num(docsize, "n"), docsizeBytes: num(docsize, "bytes"), bodyBytes: num(bodies, "bytes") },
  };
  const dir = join(persistTo, "v3/d1/miniflare-D1DatabaseObject");
  let file: string | undefined;
  try {
    for (const name of readdirSync(dir).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite")) {
      // The main database has no messages table: an error there only means "not this one".
      const rows = await sqlite3(join(dir, name), `SELECT EXISTS (SELECT 1 FROM messages WHERE conversation_id = ${history}) AS here;`).catch((e: Error) => {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") throw e;
        return [];
      });
      if (rows[0]?.here === 1) file = join(dir, name);
    }
    if (!file) return { ...base, note: `no SQLite file in ${dir} holds the history conversation` };
    const btrees = (await sqlite3(file, "SELECT name, count(*) AS pages, sum(pgsize) AS bytes, sum(payload) AS payload FROM dbstat GROUP BY name ORDER BY bytes DESC;")).map((r) => ({
      name: String(r.name),
      pages: Number(r.pages),
      bytes: Number(r.bytes),
      payload: Number(r.payload),
    }));
    const [meta] = await sqlite3(file, "SELECT page_size AS page_size, page_count AS page_count FROM pragma_page_size, pragma_page_count;");
    const tableIndexNames = new Set((await sqlite3(file, "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'messages';")).map((r) => String(r.name)));
    const sumOf = (pick: (b: BTree) => boolean) => btrees.filter(pick).reduce((a, b) => a + b.bytes, 0);
    const index = sumOf((b) => b.name.startsWith("messages_fts_"));
    const table = sumOf((b) => b.name === "messages");
    const tableIndexes = sumOf((b) => tableIndexNames.has(b.name));
    return {
      ...base,
      method: "dbstat of the sqlite3 shell on the shard's file, read-only with its server stopped (local D1 has no dbstat and refuses PRAGMA page_count)",
      file: file.slice(persistTo.length + 1),
      fileBytes: Number(meta?.page_count) * Number(meta?.page_size),
      pageSize: Number(meta?.page_size),
      btrees,
      index,
      table,
      tableIndexes,
      indexVsTable: round(index / table),
      indexVsTableAndIndexes: round(index / (table + tableIndexes)),
    };
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    return { ...base, note: e.code === "ENOENT" ? "no sqlite3 shell on PATH: pages not counted" : `pages not counted: ${e.message}` };
  }
}

/** src/search/matches.ts's RANK_WINDOW, repeated (bench/ is typechecked for Node, src/ for Workers): by rank, each shard scores its newest this many matches. */
export const RANK_WINDOW = 10_000;

export type Probe = { match: string; order: "newest" | "rank"; rows: number; ms: number[]; best: number };

/**
 * The index's own cost, without HTTP, the Worker or the join to messages: the page query of
 * src/search/matches.ts on messages_fts alone (newest first: a page in row-id order; by rank: BM25 over
 * the newest RANK_WINDOW matches), timed by D1 (`meta.duration`), each `times` times in a row, for the
 * common word matched exactly and as a prefix (the API matches the last word as one) and the rare one.
 */
export async function indexProbe(exec: (binding: string, sql: string) => Promise<{ results: Record<string, unknown>[]; ms: number }[]>, shard: number, history: number, limit: number, times = 3): Promise<Probe[]> {
  const rare = rareTerm(history);
  const cases: Omit<Probe, "rows" | "ms" | "best">[] = [`"${COMMON_TERM}"`, `"${COMMON_TERM}" *`, `"${rare}" *`].flatMap((match) => (["newest", "rank"] as const).map((order) => ({ match, order })));
  const sqlOf = ({ match, order }: (typeof cases)[number]) => {
    const m = `messages_fts MATCH '${match}'`;
    return order === "newest"
      ? `SELECT rowid FROM messages_fts WHERE ${m} ORDER BY rowid DESC LIMIT ${limit + 1};`
      : `SELECT rowid FROM messages_fts WHERE ${m} AND rowid >= coalesce((SELECT rowid FROM messages_fts WHERE ${m} ORDER BY rowid DESC LIMIT 1 OFFSET ${RANK_WINDOW - 1}), 0) ORDER BY bm25(messages_fts), rowid DESC LIMIT ${limit + 1};`;
  };
  const answers = await exec(`MESSAGES_${shard}`, cases.flatMap((c) => Array.from({ length: times }, () => sqlOf(c))).join("\n"));
  return cases.map((c, i) => {
    const mine = answers.slice(i * times, (i + 1) * times);
    const ms = mine.map((a) => a.ms);
    return { ...c, rows: mine[0]?.results.length ?? 0, ms, best: Math.min(...ms) };
  });
}

const mb = (n: number | undefined) => (n === undefined ? "—" : `${(n / 1e6).toFixed(1)} MB`);

/** The probes on one line. */
export const describeProbe = (ps: Probe[]) => ps.map((p) => `${p.match} ${p.order} ${p.best} ms (${p.rows} rows)`).join("; ");

/** One line for the log and the printed summary. */
export function describeSize(s: IndexSize): string {
  const d1 = `through D1: segments ${mb(s.d1.segmentBytes)} in ${s.d1.segmentBlocks.toLocaleString("en")} blocks, per-document sizes ${mb(s.d1.docsizeBytes)}, bodies ${mb(s.d1.bodyBytes)}`;
  if (s.index === undefined) return `${s.binding}, ${s.messages.toLocaleString("en")} messages: ${s.note ?? "pages not counted"}; ${d1}`;
  const parts = s.btrees!.filter((b) => b.name.startsWith("messages_fts_")).map((b) => `${b.name.slice("messages_fts_".length)} ${mb(b.bytes)}`);
  return (
    `${s.binding}, ${s.messages.toLocaleString("en")} messages: index messages_fts ${mb(s.index)} (${parts.join(", ")}) vs messages table ${mb(s.table)} ` +
    `(${s.indexVsTable}×; with its indexes ${mb(s.table! + s.tableIndexes!)}, ${s.indexVsTableAndIndexes}×); file ${mb(s.fileBytes)}; ${d1}`
  );
}
