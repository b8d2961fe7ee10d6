// Who is typing, under the messages: each name until the server's `until` (TYPING_SECONDS after their
// last keystroke), or until their message arrives.
import { el } from "../dom";

export type TypingLine = { element: HTMLElement; typing(user: number, until: string): void; stopped(user: number): void; stop(): void };

export function typingLine(nameOf: (user: number) => string): TypingLine {
  const until = new Map<number, number>();
  let timer: number | undefined;
  const element = el("p", { class: "typing", "aria-live": "polite" });

  function render(): void {
    const now = Date.now();
    for (const [user, end] of until) if (end <= now) until.delete(user);
    const names = [...until.keys()].map(nameOf);
    element.textContent = names.length === 0 ? "" : `${names.join(" and ")} ${names.length > 1 ? "are" : "is"} typing…`;
    window.clearTimeout(timer);
    if (until.size) timer = window.setTimeout(render, Math.min(...until.values()) - now + 50);
  }

  return {
    element,
    typing(user, end) {
      until.set(user, Date.parse(end));
      render();
    },
    stopped(user) {
      until.delete(user);
      render();
    },
    stop: () => window.clearTimeout(timer),
  };
}
