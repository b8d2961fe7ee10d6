// `npm run chat -- --conversation ID`: the last 20 messages, then the conversation live over its WebSocket;
// each typed line is sent (and kept until acknowledged, across reconnects) or, starting with `/`, is a
// command (scripts/chat/commands.ts); Ctrl-D quits once all are done.
import type { ServerEvent } from "../../src/realtime/protocol";
import { Connection } from "./connection";
import { offlineNotice } from "./format";
import type { Options } from "./options";
import { Session } from "./session";
import type { Shell } from "./shell";

export function conversationMode(options: Options & { inbox: false }, shell: Shell): void {
  const { rl, screen, auth, api } = shell;
  let connection: Connection<ServerEvent> | null = null;
  const session = new Session(
    options.conversation,
    api,
    screen,
    (frame) => connection?.send(frame) ?? false,
    () => connection?.live ?? false,
  );
  let quitting = false;
  shell.onStop(() => {
    quitting = true;
    connection?.stop();
    session.stop();
  });

  /** Ends the client, listing the lines that never got through so none is lost without a word. */
  const abandon = (code: number, why?: string): never => {
    screen.close();
    if (why) screen.problem(why);
    const unsent = session.unsent;
    if (unsent.length) {
      process.stderr.write(`! not sent (${unsent.length}):\n`);
      for (const line of unsent) process.stderr.write(`${line}\n`);
    }
    return shell.finish(code);
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
    opened.then(() => session.settled()).then(() => shell.finish(0), () => {});
  });
  rl.on("SIGINT", () => abandon(130));
  process.on("SIGINT", () => abandon(130));
  if (screen.tty) {
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
      connection = new Connection(options.url, { path: `/api/conversations/${options.conversation}/ws/`, name: "this conversation" }, auth, {
        resumeFrom: () => ({ after_seq: session.lastSeq, after_change: session.changeSeq }),
        onEvent: (event) => session.event(event),
        onOffline: (why, ms) => screen.notice(offlineNotice(why, ms)),
        onFatal: (why) => abandon(1, why),
      });
      connection.start();
    },
    (error) => abandon(1, `Cannot open conversation ${options.conversation}: ${shell.explain(error)}`),
  );
}
