// npm run chat -- --conversation ID [--url http://127.0.0.1:8787] [--after-seq N] [--refresh TOKEN] [--client-id ID]
// A terminal chat client for one conversation: the last 20 messages, then the conversation live over its
// WebSocket; each typed line is sent (and kept until acknowledged, across reconnects); Ctrl-D quits.
// The access token comes from HEY_TOKEN (scopes read:messages and send:messages; with `profile` the
// client also knows which earlier messages are yours); HEY_REFRESH (+ HEY_CLIENT_ID) lets it renew it.
import { createInterface } from "node:readline";
import { Api, Refusal } from "./chat/api";
import { Auth, AuthEnded } from "./chat/auth";
import { Connection } from "./chat/connection";
import { clause } from "./chat/format";
import { readOptions, USAGE } from "./chat/options";
import { Screen } from "./chat/screen";
import { Session } from "./chat/session";

const options = readOptions();
if ("error" in options) {
  if (options.error) console.error(`${options.error}\n`);
  console.error(USAGE);
  process.exit(2);
}

const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
const rl = createInterface({ input: process.stdin, output: tty ? process.stdout : undefined, terminal: tty, historySize: 100 });
const screen = new Screen(rl, process.stdout, tty);
const auth = new Auth(options.url, options.token, options.refresh, options.clientId);
const api = new Api(options.url, auth);
let connection: Connection | null = null;
const session = new Session(
  options.conversation,
  api,
  screen,
  (frame) => connection?.send(frame) ?? false,
  () => connection?.live ?? false,
);
let quitting = false;

function finish(code: number): never {
  quitting = true;
  connection?.stop();
  session.stop();
  auth.stop();
  rl.close();
  if (auth.rotated && auth.refreshToken) {
    // The refresh token given at start is spent: presenting it again would end the whole grant.
    process.stderr.write(`— the refresh token was renewed; next time use HEY_REFRESH=${auth.refreshToken}\n`);
  }
  process.exit(code);
}

/** Ends the client, listing the lines that never got through so none is lost without a word. */
function abandon(code: number, why?: string): never {
  screen.close();
  if (why) screen.problem(why);
  const unsent = session.unsent;
  if (unsent.length) {
    process.stderr.write(`! not sent (${unsent.length}):\n`);
    for (const line of unsent) process.stderr.write(`${line}\n`);
  }
  return finish(code);
}

const explain = (error: unknown) => {
  if (error instanceof Refusal) return `${error.detail} (HTTP ${error.status})`;
  if (error instanceof AuthEnded) return error.message;
  const { message, cause } = error as Error & { cause?: { code?: string } };
  return `cannot reach ${options.url} (${cause?.code ?? message})`;
};

auth.onRefresh = () => {
  // A fresh ticket for the new token extends the open socket's life in band (no reconnect).
  if (!connection?.live) return;
  api.ticket(options.conversation).then(
    (ticket) => connection?.send({ type: "auth", ticket }),
    () => {}, // The socket closes with 4001 at expiry instead, and reconnects with the new token.
  );
};

rl.on("line", (line) => {
  session.typed(line);
  screen.prompt();
});
rl.on("close", () => {
  // Ctrl-D, or the end of piped input: quit once every typed line is acknowledged.
  if (quitting) return;
  quitting = true;
  screen.close();
  const waiting = session.unsent.length;
  if (waiting) screen.notice(`sending ${waiting} more line(s) before quitting; Ctrl-C quits without them`);
  opened.then(() => session.outbox.empty()).then(() => finish(0), () => {});
});
rl.on("SIGINT", () => abandon(130));
process.on("SIGINT", () => abandon(130));
if (tty) {
  // Registered after readline's own listener: rl.line already holds the key.
  process.stdin.on("keypress", (_text, key: { name?: string } | undefined) => {
    if (key?.name !== "return" && key?.name !== "enter") session.keystroke(rl.line);
  });
}

screen.notice(`connecting to ${options.url}`);
screen.prompt();
const opened = session.open(options.afterSeq);
opened.then(
  () => {
    connection = new Connection(options.url, options.conversation, auth, {
      resumeFrom: () => ({ afterSeq: session.lastSeq, afterChange: session.changeSeq }),
      onEvent: (event) => session.event(event),
      onOffline: (why, ms) => screen.notice(ms ? `${clause(why)}; reconnecting in ${(ms / 1000).toFixed(1)} s` : why),
      onFatal: (why) => abandon(1, why),
    });
    connection.start();
  },
  (error) => abandon(1, `Cannot open conversation ${options.conversation}: ${explain(error)}`),
);
