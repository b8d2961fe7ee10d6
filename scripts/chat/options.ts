// The terminal client's options: flags, or the environment for what should not sit in a shell's history.
import { parseArgs } from "node:util";

export const USAGE = `usage: HEY_TOKEN=<access token> [HEY_REFRESH=<refresh token>] [HEY_CLIENT_ID=hey-web] \\
  npm run chat -- --conversation ID [--url http://127.0.0.1:8787] [--after-seq N] [--refresh TOKEN] [--client-id ID]

Shows the last 20 messages, then the conversation live; each line you type is sent (Ctrl-D quits).
With a refresh token the client renews its access token instead of stopping when it expires.
--after-seq N replays the messages after N instead of showing the last 20.`;

export type Options = {
  conversation: string;
  url: string;
  afterSeq: number | null;
  token: string | null;
  refresh: string | null;
  clientId: string;
};

/** The options, or a reason to print with the usage. */
export function readOptions(argv = process.argv.slice(2), env = process.env): Options | { error: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        conversation: { type: "string" },
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
  if (!/^[1-9]\d*$/.test(conversation)) return { error: "--conversation needs a conversation id (a number)." };
  const afterSeq = values["after-seq"];
  if (afterSeq !== undefined && !/^\d+$/.test(afterSeq)) return { error: "--after-seq needs a message seq (a number)." };
  const token = env.HEY_TOKEN || null;
  const refresh = values.refresh ?? (env.HEY_REFRESH || null);
  if (!token && !refresh) return { error: "Set HEY_TOKEN to an access token (scopes read:messages send:messages), e.g. from npm run token." };
  try {
    new URL(values.url!);
  } catch {
    return { error: `--url is not a URL: ${values.url}` };
  }
  return {
    conversation,
    url: values.url!.replace(/\/+$/, ""),
    afterSeq: afterSeq === undefined ? null : Number(afterSeq),
    token,
    refresh,
    clientId: values["client-id"] ?? (env.HEY_CLIENT_ID || "hey-web"),
  };
}
