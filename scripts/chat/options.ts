// The terminal client's options: flags, or the environment for what should not sit in a shell's history.
import { parseArgs } from "node:util";

export const USAGE = `usage: HEY_TOKEN=<access token> [HEY_REFRESH=<refresh token>] [HEY_CLIENT_ID=hey-web] \\
  npm run chat -- (--conversation ID [--after-seq N] | --inbox) [--url http://127.0.0.1:8787] [--refresh TOKEN] [--client-id ID]

--conversation ID shows the last 20 messages, then the conversation live; each line you type is sent (Ctrl-D quits).
A line starting with / is a command: /reply SEQ text, /react SEQ EMOJI, /unreact SEQ EMOJI, /pin SEQ, /unpin SEQ,
/search words (SEQ is the #number a message is shown with); //text sends /text.
--after-seq N replays the messages after N instead of showing the last 20.
--inbox shows your chat list (unread counts, last messages) and who is online, then a line for each change
across all your conversations: new messages, renames, being added or removed, unread cleared, people coming
online or going offline (Ctrl-D quits; the token needs only read:messages).
With a refresh token the client renews its access token instead of stopping when it expires.`;

export type Options = {
  url: string;
  token: string | null;
  refresh: string | null;
  clientId: string;
} & ({ inbox: false; conversation: string; afterSeq: number | null } | { inbox: true });

/** The options, or a reason to print with the usage. */
export function readOptions(argv = process.argv.slice(2), env = process.env): Options | { error: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        conversation: { type: "string" },
        inbox: { type: "boolean" },
        url: { type: "string", default: "http://127.0.0.1:8787" },
        "after-seq": { type: "string" },
        refresh: { type: "string" },
        "client-id": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    return { error: (error as Error).message };
  }
  if (values.help) return { error: "" };
  const conversation = values.conversation ?? "";
  const afterSeq = values["after-seq"];
  if (values.inbox) {
    if (values.conversation !== undefined || afterSeq !== undefined) return { error: "--inbox shows every conversation: it takes no --conversation or --after-seq." };
  } else {
    if (!/^[1-9]\d*$/.test(conversation)) return { error: "--conversation needs a conversation id (a number), or --inbox for all of them." };
    if (afterSeq !== undefined && !/^\d+$/.test(afterSeq)) return { error: "--after-seq needs a message seq (a number)." };
  }
  const token = env.HEY_TOKEN || null;
  const refresh = values.refresh ?? (env.HEY_REFRESH || null);
  if (!token && !refresh) return { error: "Set HEY_TOKEN to an access token (scopes read:messages send:messages), e.g. from npm run token." };
  try {
    new URL(values.url!);
  } catch {
    return { error: `--url is not a URL: ${values.url}` };
  }
  const common = { url: values.url!.replace(/\/+$/, ""), token, refresh, clientId: values["client-id"] ?? (env.HEY_CLIENT_ID || "hey-web") };
  if (values.inbox) return { ...common, inbox: true };
  return { ...common, inbox: false, conversation, afterSeq: afterSeq === undefined ? null : Number(afterSeq) };
}
