// What a user types into a search box, as an FTS5 query. User input never reaches MATCH as syntax: each
// word becomes a quoted string (so `.`, `-`, `"`, `*`, `AND`, `NEAR(` are only text), words must all
// match, and the last one also matches as a prefix, for search as you type — unless a space follows it:
// a finished word is looked up as itself, which costs far less when it is common (FTS5 gathers every
// match of a prefix before it yields the first).

/** Words past this many are ignored: a long paste should not become a slow query. */
const MAX_TERMS = 16;

/** The words of `q` to look for: none when it holds only spaces or punctuation. */
export function searchTerms(q: string): string[] {
  return (
    q
      .normalize("NFC")
      // Control characters separate words: FTS5 would read a NUL as the end of the query.
      .split(/[\s\p{Cc}]+/u)
      // The index's tokenizer (unicode61) keeps letters and digits; a "word" without any would match nothing.
      .filter((t) => /[\p{L}\p{N}]/u.test(t))
      .slice(0, MAX_TERMS)
  );
}

/** Whether the last word of `q` is still being typed (no white space after it), so it matches as a prefix. */
export const lastIsPrefix = (q: string) => !/\s$/u.test(q);

/** The FTS5 query for `q`, or null when it holds no word to look for. */
export function matchExpression(q: string): string | null {
  const terms = searchTerms(q);
  if (terms.length === 0) return null;
  const prefix = lastIsPrefix(q);
  return terms.map((t, i) => `"${t.replaceAll('"', '""')}"${prefix && i === terms.length - 1 ? " *" : ""}`).join(" ");
}
