// Blocking: a Block / Unblock button wherever the app lists another person (the people of a conversation),
// a confirmation that says what blocking does, and the top bar's "Blocked people" list to unblock from.
// The words the app shows in place of what a blocked person wrote live here too.
import type { Blocks } from "../blocks";
import { el, nameOf } from "../dom";

type Person = { id: number; first_name: string; last_name: string };

/** A message from someone the user blocked, in the timeline, a panel or the chat list. */
export const BLOCKED_MESSAGE = "Message from someone you blocked";
/** A reply's quote of a message from someone the user blocked. */
export const BLOCKED_QUOTE = "Quoted message hidden";

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * A person's "Blocked" mark and Block (or Unblock) button, kept current while it is shown; `error` shows
 * the API's problem. Call `stop` when the element goes.
 */
export function blockControl(person: Person, blocks: Blocks, error: (message: string) => void): { mark: HTMLElement; button: HTMLButtonElement; stop(): void } {
  const name = nameOf(person);
  const mark = el("small", { class: "blocked-mark" }, " Blocked");
  const button = el("button", { type: "button", class: "block-button" });
  function render(): void {
    const blocked = blocks.has(person.id);
    mark.hidden = !blocked;
    button.textContent = blocked ? "Unblock" : "Block";
    button.setAttribute("aria-label", `${blocked ? "Unblock" : "Block"} ${name}`);
  }
  button.addEventListener("click", async () => {
    error("");
    if (!blocks.has(person.id)) return confirmBlock(person, blocks);
    button.disabled = true;
    try {
      await blocks.unblock(person.id);
    } catch (e) {
      error(errorText(e));
    } finally {
      button.disabled = false;
    }
  });
  render();
  const stop = blocks.subscribe(render);
  return { mark, button, stop };
}

/** Asks before blocking (a native <dialog> over whatever is open); a failure is said in the dialog. */
export function confirmBlock(person: Person, blocks: Blocks): void {
  const first = person.first_name || nameOf(person);
  const heading = el("h2", { id: `block-${person.id}-heading` }, `Block ${first}?`);
  const error = el("p", { class: "field-error", role: "alert" });
  const block = el("button", { type: "button", class: "danger" }, "Block");
  const cancel = el("button", { type: "button", onclick: () => dialog.close() }, "Cancel");
  const dialog = el(
    "dialog",
    { class: "settings-dialog block-dialog", "aria-labelledby": heading.id },
    heading,
    el("p", {}, "They won't be told. You won't see their messages in groups, and they can't start a conversation with you."),
    error,
    el("div", { class: "row" }, cancel, block),
  );
  block.addEventListener("click", async () => {
    block.disabled = true;
    error.textContent = "";
    try {
      await blocks.block(person);
      dialog.close();
    } catch (e) {
      error.textContent = errorText(e);
      block.disabled = false;
    }
  });
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  cancel.focus();
}

/** The top bar's button that opens the list of blocked people. */
export function blockedPeopleButton(blocks: Blocks): HTMLButtonElement {
  // Not "Blocked people": the conversation's "People" button keeps a name no other button contains.
  return el("button", { type: "button", class: "blocked-people-button", title: "Blocked people", onclick: () => blockedPeopleDialog(blocks) }, "Blocked");
}

function blockedPeopleDialog(blocks: Blocks): void {
  const status = el("p", { class: "hint", role: "status" });
  const error = el("p", { class: "field-error", role: "alert" });
  const list = el("ul", { class: "people", "aria-label": "Blocked people" });

  async function unblock(user: number, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    error.textContent = "";
    try {
      await blocks.unblock(user);
    } catch (e) {
      error.textContent = errorText(e);
      button.disabled = false;
    }
  }

  function render(): void {
    const blocked = blocks.list();
    list.replaceChildren(
      ...blocked.map(({ user }) => {
        const button = el("button", { type: "button", "aria-label": `Unblock ${nameOf(user)}` }, "Unblock");
        button.addEventListener("click", () => void unblock(user.id, button));
        return el("li", {}, el("span", {}, nameOf(user)), button);
      }),
    );
    if (!blocks.loaded) status.textContent = blocks.error ? "" : "Loading…";
    else status.textContent = blocked.length ? "" : "You haven't blocked anyone.";
    if (!blocks.loaded && blocks.error) error.textContent = `Your blocked people could not be loaded: ${blocks.error}`;
  }

  const dialog = el(
    "dialog",
    { class: "settings-dialog", "aria-labelledby": "blocked-heading" },
    el("h2", { id: "blocked-heading" }, "Blocked people"),
    el("p", { class: "hint" }, "They can't start a conversation with you or add you to one, and you don't see their messages in groups you share. They aren't told."),
    status,
    list,
    error,
    el("form", { method: "dialog" }, el("button", { type: "submit" }, "Close")),
  );
  const stop = blocks.subscribe(render);
  dialog.addEventListener("close", () => {
    stop();
    dialog.remove();
  });
  render();
  document.body.append(dialog);
  dialog.showModal();
  // A first read that failed is tried again.
  if (!blocks.loaded) {
    error.textContent = "";
    void blocks.load();
  }
}
