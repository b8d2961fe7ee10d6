// The top bar's "Account" settings: downloading the user's data, and deleting the account.
import { el } from "../dom";
import { dataExportSection } from "./data-export";
import { deleteAccountSection } from "./delete-account";

/** The button that opens the settings; `deleteAccount` deletes the account and signs this tab out. */
export function accountButton(deleteAccount: (password: string) => Promise<void>): HTMLButtonElement {
  return el("button", { type: "button", class: "account-button", onclick: () => accountDialog(deleteAccount) }, "Account");
}

/** A modal dialog (native <dialog>); the data export is asked after only while it is open. */
function accountDialog(deleteAccount: (password: string) => Promise<void>): void {
  const dataExport = dataExportSection();
  const dialog = el(
    "dialog",
    { class: "settings-dialog", "aria-labelledby": "account-heading" },
    el("h2", { id: "account-heading" }, "Account"),
    dataExport.element,
    deleteAccountSection(async (password) => {
      await deleteAccount(password);
      // The app is signed out beneath it: nothing here applies any more.
      dialog.close();
    }),
    el("form", { method: "dialog" }, el("button", { type: "submit" }, "Close")),
  );
  dialog.addEventListener("close", () => {
    dataExport.stop();
    dialog.remove();
  });
  document.body.append(dialog);
  dialog.showModal();
}
