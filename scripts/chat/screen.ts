// The terminal: lines are printed above the input line without breaking what is being typed, and an own
// message's mark (⋯ pending, ✓ sent) is updated in place while it is still on screen. Without a terminal
// (piped), lines are simply written: messages to stdout, notices and problems to stderr.
import { clearScreenDown, cursorTo, moveCursor, type Interface } from "node:readline";
import { styleText } from "node:util";

/** A printed line that may be marked later: how many rows it takes and how many were printed below it. */
export type Printed = { rows: number; rowsBelow: number };

type Internals = { prevRows?: number; _getDisplayPos?: (text: string) => { rows: number; cols: number } };

const PROMPT = "> ";

export class Screen {
  #tracked = new Set<Printed>();
  #closed = false;
  #note = "";
  #progress = "";

  constructor(
    readonly rl: Interface,
    readonly out: NodeJS.WriteStream,
    readonly tty: boolean,
  ) {
    if (tty) rl.setPrompt(PROMPT);
  }

  /** A message line (stdout). With `track`, the returned handle lets `mark` update its first column. */
  print(text: string, track = false): Printed | null {
    if (!this.tty) {
      this.out.write(`${text}\n`);
      return null;
    }
    this.#above(text);
    if (!track) return null;
    const printed = { rows: this.#rows(text), rowsBelow: 0 };
    this.#tracked.add(printed);
    return printed;
  }

  /** Something about the connection (dim on a terminal, stderr when piped). */
  notice(text: string): void {
    if (this.tty) this.#above(styleText("dim", `— ${text}`));
    else process.stderr.write(`— ${text}\n`);
  }

  /** A refusal or failure, in the server's words. */
  problem(text: string): void {
    if (this.tty) this.#above(styleText("red", `! ${text}`));
    else process.stderr.write(`! ${text}\n`);
  }

  /** Rewrites the first column of a tracked line; false when it has scrolled out of reach (print anew instead). */
  mark(printed: Printed, mark: string, done = true): boolean {
    if (done) this.#tracked.delete(printed);
    if (!this.tty || this.#closed) return false;
    const up = this.rl.getCursorPos().rows + printed.rowsBelow + printed.rows;
    if (up >= (this.out.rows || 24)) return false;
    // Save the cursor, rewrite one column `up` rows above, restore: readline's idea of the screen holds.
    this.out.write("\x1b7");
    cursorTo(this.out, 0);
    moveCursor(this.out, 0, -up);
    this.out.write(mark);
    this.out.write("\x1b8");
    return true;
  }

  forget(printed: Printed): void {
    this.#tracked.delete(printed);
  }

  /** After Enter, readline leaves `prompt + line` on screen: wipe it (the line is printed as a message instead). */
  eraseEcho(line: string): void {
    if (!this.tty || this.#closed) return;
    moveCursor(this.out, 0, -this.#rows(this.rl.getPrompt() + line));
    cursorTo(this.out, 0);
    clearScreenDown(this.out);
  }

  /** The prompt, with a note before it (who is typing), or the plain one. */
  setNote(note: string): void {
    this.#note = note;
    this.#setPrompt();
  }

  /** Something under way (an upload's progress), before the prompt until cleared with "". */
  setProgress(text: string): void {
    this.#progress = text;
    this.#setPrompt();
  }

  #setPrompt(): void {
    if (!this.tty || this.#closed) return;
    const note = [this.#progress, this.#note].filter(Boolean).join(" · ");
    this.rl.setPrompt(note ? `${styleText("dim", note)} ${PROMPT}` : PROMPT);
    this.#above(null);
  }

  prompt(): void {
    if (this.tty && !this.#closed) this.rl.prompt(true);
  }

  /** Input is over (Ctrl-D): lines are plain writes from now on. */
  close(): void {
    if (this.tty && !this.#closed) {
      // The input line goes: what follows are plain lines.
      moveCursor(this.out, 0, -this.rl.getCursorPos().rows);
      cursorTo(this.out, 0);
      clearScreenDown(this.out);
    }
    this.#closed = true;
    this.#tracked.clear();
  }

  #above(text: string | null): void {
    if (this.#closed) {
      if (text !== null) this.out.write(`${text}\n`);
      return;
    }
    // From the first row of the input, clear it, print, and let readline draw the input again below.
    moveCursor(this.out, 0, -this.rl.getCursorPos().rows);
    cursorTo(this.out, 0);
    clearScreenDown(this.out);
    if (text !== null) {
      this.out.write(`${text}\n`);
      const rows = this.#rows(text);
      for (const printed of this.#tracked) printed.rowsBelow += rows;
    }
    // readline moves up by the rows its input took before redrawing; the cursor is at the input's start now.
    (this.rl as unknown as Internals).prevRows = 0;
    this.rl.prompt(true);
  }

  /** How many terminal rows `text` takes. */
  #rows(text: string): number {
    const columns = this.out.columns || 80;
    const pos = (this.rl as unknown as Internals)._getDisplayPos?.bind(this.rl);
    let rows = 0;
    for (const part of text.split("\n")) {
      if (pos) {
        const at = pos(part);
        // Text that fills its last row exactly leaves the cursor there (pending wrap): no extra row.
        rows += at.rows + (at.cols > 0 || at.rows === 0 ? 1 : 0);
      } else {
        rows += Math.max(1, Math.ceil([...part].length / columns));
      }
    }
    return rows;
  }
}
