// npm run chat -- (--conversation ID [--after-seq N] | --inbox) [--url http://127.0.0.1:8787] [--refresh TOKEN] [--client-id ID]
// A terminal client for Hey, in one of two modes: one conversation live, where each typed line is sent or,
// starting with `/`, is a command such as /reply or /react (scripts/chat/conversation-mode.ts), or the
// inbox, every conversation's news and who is online from the user stream (scripts/chat/inbox-mode.ts).
// The access token comes from HEY_TOKEN (scopes read:messages, and send:messages to send, react, pin or attach;
// with `profile` the client also knows which messages are yours); HEY_REFRESH (+ HEY_CLIENT_ID) lets it
// renew it.
import { conversationMode } from "./chat/conversation-mode";
import { inboxMode } from "./chat/inbox-mode";
import { readOptions, USAGE } from "./chat/options";
import { openShell } from "./chat/shell";

const options = readOptions();
if ("error" in options) {
  if (options.error) console.error(`${options.error}\n`);
  console.error(USAGE);
  process.exit(2);
}

// Nothing is typed in the inbox: its lines are plain writes, even on a terminal.
const shell = openShell(options, !options.inbox);
if (options.inbox) inboxMode(options, shell);
else conversationMode(options, shell);
