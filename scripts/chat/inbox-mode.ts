// `npm run chat -- --inbox`: the user stream, printed line by line (scripts/chat/inbox.ts), resumed with
// after_event across reconnects; nothing is typed, Ctrl-D quits.
import type { StreamEvent } from "../../src/realtime/stream-protocol";
import { Connection } from "./connection";
import { offlineNotice } from "./format";
import { Inbox } from "./inbox";
import type { Options } from "./options";
import type { Shell } from "./shell";

export function inboxMode(options: Options, shell: Shell): void {
  const { rl, screen, auth, api } = shell;
  const inbox = new Inbox(api, screen);
  let connection: Connection<StreamEvent> | null = null;
  let quitting = false;
  shell.onStop(() => {
    quitting = true;
    connection?.stop();
  });
  const fail = (why: string): never => {
    screen.problem(why);
    return shell.finish(1);
  };

  rl.on("close", () => {
    if (!quitting) shell.finish(0);
  });
  process.on("SIGINT", () => shell.finish(130));

  screen.notice(`connecting to ${options.url}`);
  inbox.open().then(
    () => {
      connection = new Connection(options.url, { path: "/api/events/ws/", name: "the inbox" }, auth, {
        resumeFrom: () => ({ after_event: inbox.eventSeq }),
        onEvent: (event) => inbox.event(event),
        onOffline: (why, ms) => screen.notice(offlineNotice(why, ms)),
        onFatal: fail,
      });
      connection.start();
    },
    (error) => fail(`Cannot open the inbox: ${shell.explain(error)}`),
  );
}
