// What both modes of the terminal client share: the terminal, the tokens, the REST client, and how it ends.
import { createInterface, type Interface } from "node:readline";
import { Api, Refusal } from "./api";
import { Auth, AuthEnded } from "./auth";
import type { Options } from "./options";
import { Screen } from "./screen";

export type Shell = {
  rl: Interface;
  screen: Screen;
  auth: Auth;
  api: Api;
  /** `stop` runs when the client ends, before it exits. */
  onStop(stop: () => void): void;
  finish(code: number): never;
  /** An error in the user's terms: the server's refusal, or why the server could not be reached. */
  explain(error: unknown): string;
};

/** With `typing`, a terminal gets an input line that printed lines go above; without, lines are plain writes. */
export function openShell(options: Options, typing: boolean): Shell {
  const tty = typing && Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const rl = createInterface({ input: process.stdin, output: tty ? process.stdout : undefined, terminal: tty, historySize: 100 });
  const auth = new Auth(options.url, options.token, options.refresh, options.clientId);
  const stops: (() => void)[] = [];
  return {
    rl,
    screen: new Screen(rl, process.stdout, tty),
    auth,
    api: new Api(options.url, auth),
    onStop: (stop) => void stops.push(stop),
    finish(code) {
      for (const stop of stops) stop();
      auth.stop();
      rl.close();
      if (auth.rotated && auth.refreshToken) {
        // The refresh token given at start is spent: presenting it again would end the whole grant.
        process.stderr.write(`— the refresh token was renewed; next time use HEY_REFRESH=${auth.refreshToken}\n`);
      }
      process.exit(code);
    },
    explain(error) {
      if (error instanceof Refusal) return `${error.detail} (HTTP ${error.status})`;
      if (error instanceof AuthEnded) return error.message;
      const { message, cause } = error as Error & { cause?: { code?: string } };
      return `cannot reach ${options.url} (${cause?.code ?? message})`;
    },
  };
}
