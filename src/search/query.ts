// What a user types into a search box, as an FTS5 query. User input never reaches MATCH as syntax: each
// word becomes a quoted string (so `.`, `-`, `"`, `*`, `AND`, `NEAR(` are only text), words must all
// match, and the last one also matches as a prefix, for search as you type.

/** Words past this many are ignored: a long paste should not become a slow query. */
const MAX_TERMS = 16;

/** The FTS5 query for `q`, or null when it holds no word to look for (only spaces or punctuation). */
export function matchExpression(q: string): string | null {
  const terms = q
    .normalize("NFC")
    // Control characters separate words: FTS5 would read a NUL as the end of the query.
    .split(/[\s\p{Cc}]+/u)
    // The index's tokenizer (unicode61) keeps letters and digits; a "word" without any would match nothing.
    .filter((t) => /[\p{L}\p{N}]/u.test(t))
    .slice(0, MAX_TERMS);
  if (terms.length === 0) return null;
  return terms.map((t, i) => `"${t.replaceAll('"', '""')}"${i === terms.length - 1 ? " *" : ""}`).join(" ");
}

/** What FTS5's snippet() puts around each match: made fresh per search, so no message body can contain them. */
export type Marks = { start: string; end: string };

export function newMarks(): Marks {
  const token = crypto.randomUUID();
  return { start: `\u0002${token}`, end: `\u0003${token}` };
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escaped = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** A snippet FTS5 marked with `marks` as HTML: the text escaped, the matches (and only they) in `<mark>`. */
export function highlighted(snippet: string, marks: Marks): string {
  return snippet
    .split(marks.start)
    .map((part, i) => {
      if (i === 0) return escaped(part);
      const [match, ...after] = part.split(marks.end);
      return `<mark>${escaped(match!)}</mark>${escaped(after.join(""))}`;
    })
    .join("");
}
