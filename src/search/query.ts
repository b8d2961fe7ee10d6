// What a user types into a search box, as an FTS5 query. User input never reaches MATCH as syntax: each
// word becomes a quoted string (so `.`, `-`, `"`, `*`, `AND`, `NEAR(` are only text), words must all
// match, and the last one also matches as a prefix, for search as you type.

/** Words past this many are ignored: a long paste should not become a slow query. */
const MAX_TERMS = 16;

/** The FTS5 query for `q`, or null when it holds no word to look for (only spaces or punctuation). */
export function matchExpression(q: string): string | null {
  const terms = q
    .normalize("NFC")
    .split(/\s+/u)
    // The index's tokenizer (unicode61) keeps letters and digits; a "word" without any would match nothing.
    .filter((t) => /[\p{L}\p{N}]/u.test(t))
    .slice(0, MAX_TERMS);
  if (terms.length === 0) return null;
  return terms.map((t, i) => `"${t.replaceAll('"', '""')}"${i === terms.length - 1 ? " *" : ""}`).join(" ");
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const MARK_START = "\u0002";
export const MARK_END = "\u0003";

/** A snippet FTS5 marked with MARK_START/MARK_END as HTML: the text escaped, the matches in `<mark>`. */
export function highlighted(snippet: string): string {
  return snippet
    .replace(/[&<>"']/g, (c) => ESCAPES[c]!)
    .replaceAll(MARK_START, "<mark>")
    .replaceAll(MARK_END, "</mark>");
}
