// What a reaction may be: exactly one emoji, as Unicode's recommended-for-general-interchange (RGI) set
// defines it — one grapheme cluster such as 👍, ❤️, 👩🏽‍💻 or 🇫🇷. Clients import this module too.

const ONE_EMOJI = new RegExp("^\\p{RGI_Emoji}$", "v");
const PRESENTATION = "\uFE0F";

/**
 * The emoji in its fully-qualified form (❤ becomes ❤️, so both spellings are one reaction), or null
 * when `text` is not exactly one emoji.
 */
export function normalizedEmoji(text: string): string | null {
  if (ONE_EMOJI.test(text)) return text;
  const qualified = text + PRESENTATION;
  return !text.endsWith(PRESENTATION) && ONE_EMOJI.test(qualified) ? qualified : null;
}
