// Where a body matched, as HTML: made here from the body rather than by FTS5's snippet(), which would run
// the full-text query once more per hit. Words are compared as the index's tokenizer (unicode61 with
// remove_diacritics) compares them: letters and digits, without case or accents.

const WORD = /[\p{L}\p{N}]+/gu;
/** Words of context kept before the first match, and in all. */
const BEFORE = 4;
const WORDS = 16;

const fold = (text: string) => text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escaped = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/**
 * A window of `body` around its first match of `terms` (searchTerms' words; the last one's last word
 * also as a prefix when `prefix`), HTML-escaped with each matching word in `<mark>…</mark>`, and `…`
 * where it was cut.
 */
export function snippetOf(body: string, terms: string[], prefix = true): string {
  const wordsOf = (t: string) => [...fold(t).matchAll(WORD)].map((m) => m[0]);
  const exact = new Set(terms.flatMap(wordsOf));
  const stem = prefix ? wordsOf(terms.at(-1) ?? "").at(-1) : undefined;
  const words = [...body.matchAll(WORD)];
  const matches = (w: string) => exact.has(fold(w)) || (stem !== undefined && fold(w).startsWith(stem));
  const first = Math.max(0, words.findIndex((w) => matches(w[0])));
  const start = Math.max(0, first - BEFORE);
  const end = Math.min(words.length, start + WORDS);
  if (words.length === 0) return escaped(body);
  const from = start === 0 ? 0 : words[start]!.index;
  const to = end === words.length ? body.length : words[end - 1]!.index + words[end - 1]![0].length;
  let html = start === 0 ? "" : "…";
  let at = from;
  for (const w of words.slice(start, end)) {
    if (!matches(w[0])) continue;
    html += `${escaped(body.slice(at, w.index))}<mark>${escaped(w[0])}</mark>`;
    at = w.index + w[0].length;
  }
  return html + escaped(body.slice(at, to)) + (end === words.length ? "" : "…");
}
