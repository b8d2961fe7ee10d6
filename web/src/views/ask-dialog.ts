// A small modal form that asks for one piece of text (a report's reason, a moderator's note) and runs the
// action with it, showing the API's problem detail in place so the text is not lost on a failure.
import { el } from "../dom";

export type Ask = {
  title: string;
  /** What the action will do, said before the field. */
  intro?: string;
  label: string;
  required: boolean;
  maxlength: number;
  /** The submit button's text. */
  action: string;
  danger?: boolean;
  /** Runs the action; what it answers is shown in the dialog as its outcome, else the dialog closes. */
  run(text: string): Promise<string | void>;
};

/** Opens a native <dialog> (focus stays inside, Escape closes it). */
export function askDialog(ask: Ask): void {
  const heading = el("h2", { id: `ask-${Math.random().toString(36).slice(2, 9)}` }, ask.title);
  const input = el("textarea", { rows: 3, maxlength: ask.maxlength, required: ask.required, id: `${heading.id}-input` });
  const error = el("p", { class: "field-error", role: "alert" });
  const outcome = el("p", { class: "ask-outcome", role: "status" });
  const submit = el("button", { type: "submit", class: ask.danger ? "danger" : "primary" }, ask.action);
  const cancel = el("button", { type: "button", onclick: () => dialog.close() }, "Cancel");
  const form = el(
    "form",
    { class: "ask-form" },
    ask.intro ? el("p", {}, ask.intro) : null,
    el("label", { for: input.id }, ask.label),
    input,
    error,
    el("div", { class: "row" }, cancel, submit),
  );
  const dialog = el("dialog", { class: "settings-dialog ask-dialog", "aria-labelledby": heading.id }, heading, outcome, form);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (ask.required && !text) return void (error.textContent = "Please say why.");
    error.textContent = "";
    submit.disabled = true;
    try {
      const said = await ask.run(text);
      if (!said) return dialog.close();
      // The form goes, so a second submit cannot happen; Close takes the focus the form had.
      const close = el("button", { type: "button", onclick: () => dialog.close() }, "Close");
      form.replaceWith(el("div", { class: "row" }, close));
      outcome.textContent = said;
      close.focus();
    } catch (e) {
      error.textContent = e instanceof Error ? e.message : String(e);
    } finally {
      submit.disabled = false;
    }
  });
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  input.focus();
}
