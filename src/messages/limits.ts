// Message rules clients need too (the web app imports this module, so it stays free of zod).

/** A message body holds 1 to this many Unicode code points (surrounding white space not counted). */
export const MAX_BODY_CODE_POINTS = 4000;

/** How a body is measured against the limit. */
export const bodyLength = (body: string) => [...body.trim()].length;

/** A message takes at most this many different emoji as reactions. */
export const MAX_REACTION_EMOJI = 20;

/** A conversation keeps at most this many pinned messages. */
export const MAX_PINS = 50;

/** A message carries at most this many files. */
export const MAX_ATTACHMENTS = 10;
