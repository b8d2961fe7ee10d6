// The participants of a conversation: the owner adds people by email and removes them; anyone may leave,
// and block (or unblock) anyone else here.
import { addParticipant, ApiError, findUserByEmail, removeParticipant } from "../api";
import type { Blocks } from "../blocks";
import { el, field, nameOf, setFieldError } from "../dom";
import type { ConversationResource } from "../types";
import { blockControl } from "./blocking";

type Callbacks = { changed(): Promise<void>; left(): void };

/** Opens a modal dialog (native <dialog>: focus stays inside, Escape closes it). */
export function peopleDialog(conversation: ConversationResource, me: number, blocks: Blocks, callbacks: Callbacks): void {
  const owner = conversation.owner === me;
  const error = el("p", { class: "field-error", role: "alert" });
  const list = el("ul", { class: "people" });
  /** The rows' block controls, which follow the blocks while the dialog is open. */
  let controls: { stop(): void }[] = [];

  const remove = async (userId: number, button: HTMLButtonElement) => {
    const self = userId === me;
    if (self && !confirm("Leave this conversation? You will no longer see its messages.")) return;
    button.disabled = true;
    try {
      await removeParticipant(conversation.id, userId);
      if (self) {
        dialog.close();
        return callbacks.left();
      }
      conversation.participants = conversation.participants.filter((p) => p.id !== userId);
      renderList();
      await callbacks.changed();
    } catch (e) {
      button.disabled = false;
      error.textContent = e instanceof Error ? e.message : String(e);
    }
  };

  function renderList(): void {
    for (const control of controls) control.stop();
    controls = [];
    list.replaceChildren(
      ...conversation.participants.map((p) => {
        const label = p.id === me ? "You" : nameOf(p);
        const button =
          p.id === me
            ? el("button", { type: "button" }, "Leave")
            : owner
              ? el("button", { type: "button", "aria-label": `Remove ${label}` }, "Remove")
              : null;
        button?.addEventListener("click", () => void remove(p.id, button));
        const block = p.id === me ? null : blockControl(p, blocks, (message) => (error.textContent = message));
        if (block) controls.push(block);
        return el(
          "li",
          {},
          el("span", {}, label, p.id === conversation.owner ? el("small", {}, " (owner)") : null, block?.mark),
          el("span", { class: "person-actions" }, block?.button, button),
        );
      }),
    );
  }

  const email = el("input", { type: "email", name: "email", autocomplete: "off", required: true });
  const add = el("form", { class: "add-person" }, field("Add someone by email", email), el("button", { type: "submit" }, "Add"));
  add.addEventListener("submit", async (event) => {
    event.preventDefault();
    setFieldError(email, "");
    try {
      const user = await findUserByEmail(email.value);
      if (!user) return setFieldError(email, "Nobody on Hey has that email.");
      const updated = await addParticipant(conversation.id, user.id);
      conversation.participants = updated.participants;
      email.value = "";
      renderList();
      await callbacks.changed();
    } catch (e) {
      setFieldError(email, e instanceof ApiError && e.status === 409 ? "They are already here." : e instanceof Error ? e.message : String(e));
    }
  });

  const dialog = el(
    "dialog",
    { class: "people-dialog", "aria-labelledby": "people-heading" },
    el("h2", { id: "people-heading" }, "People in this chat"),
    list,
    error,
    owner ? add : el("p", { class: "hint" }, "Only the owner can add or remove people."),
    el("form", { method: "dialog" }, el("button", { type: "submit" }, "Close")),
  );
  dialog.addEventListener("close", () => {
    for (const control of controls) control.stop();
    dialog.remove();
  });
  renderList();
  document.body.append(dialog);
  dialog.showModal();
}
