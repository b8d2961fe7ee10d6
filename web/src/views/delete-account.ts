// "Delete account": what deleting does, then a confirmation that asks for the password. The server ends
// every token and session of the account at once; `deleteAccount` (main.ts) then signs this tab out.
import { ApiError } from "../api";
import { el, field, setFieldError } from "../dom";

const WHAT_HAPPENS =
  "Your profile, your files and your place in every conversation go. Messages you sent stay in the others' history as deleted messages from “Deleted user”. This cannot be undone.";

/** The settings' danger section; `deleteAccount` throws the API's problem when the server refuses. */
export function deleteAccountSection(deleteAccount: (password: string) => Promise<void>): HTMLElement {
  return el(
    "section",
    { class: "account-section danger-zone", "aria-labelledby": "delete-heading" },
    el("h3", { id: "delete-heading" }, "Delete account"),
    el("p", { class: "hint" }, WHAT_HAPPENS),
    el("button", { type: "button", class: "danger", onclick: () => confirmDeletion(deleteAccount) }, "Delete my account"),
  );
}

/** A native <dialog> over the settings; the server's reason for refusing is said under the password. */
function confirmDeletion(deleteAccount: (password: string) => Promise<void>): void {
  const password = el("input", { type: "password", name: "current_password", autocomplete: "current-password", required: true, maxlength: 1024 });
  const submit = el("button", { type: "submit", class: "danger" }, "Delete account");
  const cancel = el("button", { type: "button", onclick: () => dialog.close() }, "Cancel");
  const form = el("form", { class: "ask-form", novalidate: true }, el("p", {}, WHAT_HAPPENS), field("Your password", password), el("div", { class: "row" }, cancel, submit));
  const dialog = el(
    "dialog",
    { class: "settings-dialog ask-dialog", "aria-labelledby": "delete-confirm-heading" },
    el("h2", { id: "delete-confirm-heading" }, "Delete your account?"),
    form,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setFieldError(password, "");
    if (!password.value) {
      setFieldError(password, "Enter your password to delete your account.");
      return password.focus();
    }
    submit.disabled = true;
    try {
      await deleteAccount(password.value);
      dialog.close();
    } catch (e) {
      const said = e instanceof ApiError ? (e.errors.find((x) => x.path === "current_password")?.message ?? e.message) : String(e);
      setFieldError(password, said);
      password.select();
      submit.disabled = false;
    }
  });
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  password.focus();
}
