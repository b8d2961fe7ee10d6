// What a line typed in conversation mode asks for: a message to send, or a command that names a message
// by the `#seq` printed before its sender (`/react 7 👍`) or a file (`/attach ~/plan.pdf`, quoted if it
// holds spaces). `//…` sends a line that starts with `/`.
// A message is checked here against the server's limits before it goes.
import { randomUUID } from "node:crypto";
import { MAX_BODY_CODE_POINTS } from "../../src/messages/schemas";
import { MAX_FRAME_BYTES } from "../../src/realtime/protocol";
import { plural } from "./format";

export type Input =
  | { kind: "send"; body: string }
  | { kind: "reply"; seq: number; body: string }
  | { kind: "react" | "unreact"; seq: number; emoji: string }
  | { kind: "pin" | "unpin"; seq: number }
  | { kind: "search"; words: string }
  /** Mute push notifications from this conversation (but mentions) until `until`; null unmutes. */
  | { kind: "mute"; until: Date | null }
  /** Upload the file at `path`, then send it with `body` (which may be empty). */
  | { kind: "attach"; path: string; body: string }
  /** Save message `seq`'s files into `dir`. */
  | { kind: "download"; seq: number; dir: string }
  /** Not a command, or not as written: what to print instead (one line). */
  | { kind: "help"; text: string };

export const HELP =
  "commands: /reply SEQ text, /react SEQ EMOJI, /unreact SEQ EMOJI, /pin SEQ, /unpin SEQ, /search words, /attach PATH [text], " +
  "/download SEQ [DIR], /mute [30m|8h|7d] (push notifications only for mentions; forever without a time), /unmute " +
  "(SEQ is the #number of a message; //text sends /text)";

const USAGE = {
  reply: "/reply SEQ text",
  react: "/react SEQ EMOJI",
  unreact: "/unreact SEQ EMOJI",
  pin: "/pin SEQ",
  unpin: "/unpin SEQ",
  search: "/search words",
  attach: "/attach PATH [text]",
  download: "/download SEQ [DIR]",
  mute: "/mute [30m|8h|7d]",
  unmute: "/unmute",
} as const;

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** "Forever": a mute the server keeps until it is lifted. */
const FOREVER = new Date("9999-12-31T00:00:00Z");

/** A path as typed: in quotes (which may hold spaces), or up to the first space. */
const PATH = /^(?:"([^"]+)"|'([^']+)'|(\S+))(?:\s+([\s\S]*))?$/;

/** What `line` asks for; a command that is not as its usage says answers that usage. */
export function readInput(line: string): Input {
  if (!line.startsWith("/")) return { kind: "send", body: line };
  if (line.startsWith("//")) return { kind: "send", body: line.slice(1) };
  const [, name = "", rest = ""] = /^\/(\S*)\s*([\s\S]*)$/.exec(line) ?? [];
  if (name === "help") return { kind: "help", text: HELP };
  if (!(name in USAGE)) return { kind: "help", text: `unknown command /${name}; ${HELP}` };
  const kind = name as keyof typeof USAGE;
  const usage = { kind: "help", text: `usage: ${USAGE[kind]}` } as const;
  if (kind === "search") return rest.trim() ? { kind, words: rest.trim() } : usage;
  if (kind === "unmute") return rest.trim() ? usage : { kind: "mute", until: null };
  if (kind === "mute") {
    if (!rest.trim()) return { kind, until: FOREVER };
    const [, amount, unit] = /^([1-9]\d{0,3})([mhd])$/.exec(rest.trim()) ?? [];
    return amount ? { kind, until: new Date(Date.now() + Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS]) } : usage;
  }
  if (kind === "attach") {
    const [, double, single, bare, text = ""] = PATH.exec(rest.trimEnd()) ?? [];
    const path = double ?? single ?? bare;
    return path ? { kind, path, body: text } : usage;
  }
  // The seq as printed (`#7`) or bare, then what the command takes.
  const [, digits, arg = ""] = /^#?([1-9]\d{0,14})(?:\s+([\s\S]*))?$/.exec(rest.trimEnd()) ?? [];
  if (!digits) return usage;
  const seq = Number(digits);
  switch (kind) {
    case "reply":
      return arg.trim() ? { kind, seq, body: arg } : usage;
    case "react":
    case "unreact":
      return /^\S+$/.test(arg) ? { kind, seq, emoji: arg } : usage;
    case "pin":
    case "unpin":
      return arg ? usage : { kind, seq };
    case "download": {
      // The directory is the rest of the line, quoted or not (it may hold spaces).
      const dir = arg.trim();
      return { kind, seq, dir: /^(["'])(.+)\1$/.exec(dir)?.[2] ?? (dir || ".") };
    }
  }
}

/** Why the server would refuse this line, or null. */
export function refusalOf(line: string): string | null {
  const length = [...line.trim()].length;
  if (length > MAX_BODY_CODE_POINTS) return `the line is ${plural(length, "character")}; a message holds at most ${MAX_BODY_CODE_POINTS.toLocaleString("en-US")}.`;
  // Escaped JSON can outgrow the frame limit (16 KiB, else close 1009) before the character limit.
  const bytes = Buffer.byteLength(JSON.stringify({ type: "send", message_body: line, client_message_id: randomUUID() }));
  if (bytes > MAX_FRAME_BYTES) return `the line takes ${bytes.toLocaleString("en-US")} bytes as a frame; a frame holds at most ${MAX_FRAME_BYTES.toLocaleString("en-US")}.`;
  return null;
}
