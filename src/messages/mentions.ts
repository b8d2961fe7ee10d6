// How a body mentions people, for the server and every client (the web app imports this module, so it
// stays free of zod): `<@42>` mentions user 42 when they take part in the conversation; otherwise it is
// plain text.

const MENTION = /<@([1-9]\d{0,14})>/g;

/** The user ids a body writes as mentions, each once, in order of first appearance. */
export function mentionedIds(body: string): number[] {
  return [...new Set([...body.matchAll(MENTION)].map((m) => Number(m[1])))];
}

/** A body split into text and mentions, for clients that render mentions as names. */
export function mentionParts(body: string): ({ text: string } | { userId: number; text: string })[] {
  const parts: ({ text: string } | { userId: number; text: string })[] = [];
  let at = 0;
  for (const m of body.matchAll(MENTION)) {
    if (m.index > at) parts.push({ text: body.slice(at, m.index) });
    parts.push({ userId: Number(m[1]), text: m[0] });
    at = m.index + m[0].length;
  }
  if (at < body.length) parts.push({ text: body.slice(at) });
  return parts;
}

/** How a client writes a mention of `userId` into a body. */
export const mentionOf = (userId: number) => `<@${userId}>`;
