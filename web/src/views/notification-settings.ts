// Notifications: Web Push for this browser, which the browser is asked about only when the user turns it
// on, and whether notifications show who wrote what or only "New message".
import { updateMe } from "../api";
import { el } from "../dom";
import { disablePush, enablePush, PushError, pushState, type PushState } from "../push";
import type { UserResource } from "../types";

const SAYS: Record<PushState, string> = {
  unsupported: "This browser cannot show notifications from Hey.",
  blocked: "Notifications are blocked for Hey in this browser. Allow them in the site settings to turn them on.",
  unconfigured: "This Hey server has no push notifications set up.",
  off: "Notifications are off in this browser.",
  on: "Notifications are on in this browser.",
};

/** The top bar's button that opens the settings. */
export function notificationsButton(me: UserResource): HTMLButtonElement {
  return el("button", { type: "button", class: "notifications-button", onclick: () => notificationsDialog(me) }, "Notifications");
}

function previewsSetting(me: UserResource): HTMLElement {
  const box = el("input", { type: "checkbox", checked: me.notification_previews });
  box.addEventListener("change", async () => {
    box.disabled = true;
    try {
      me.notification_previews = (await updateMe({ notification_previews: box.checked })).notification_previews;
    } catch {
      // Not saved: show what notifications still do.
    } finally {
      box.checked = me.notification_previews;
      box.disabled = false;
    }
  });
  return el("label", { class: "check-setting" }, box, "Show message text in notifications");
}

/** A modal dialog (native <dialog>); what it says about push is read again each time it opens. */
function notificationsDialog(me: UserResource): void {
  const status = el("p", { class: "push-status", role: "status" }, "Checking this browser…");
  const error = el("p", { class: "field-error", role: "alert" });
  const toggle = el("button", { type: "button", class: "primary", hidden: true });
  let state: PushState = "off";

  async function show(): Promise<void> {
    try {
      state = await pushState();
      status.textContent = SAYS[state];
    } catch (e) {
      state = "off";
      status.textContent = `Hey cannot tell whether notifications are on: ${e instanceof Error ? e.message : String(e)}`;
    }
    toggle.hidden = state !== "on" && state !== "off";
    toggle.textContent = state === "on" ? "Disable notifications" : "Enable notifications";
  }

  toggle.addEventListener("click", async () => {
    toggle.disabled = true;
    error.textContent = "";
    try {
      await (state === "on" ? disablePush() : enablePush());
    } catch (e) {
      // The status line already explains a state such as "blocked"; anything else is said here.
      if (!(e instanceof PushError) || e.state === "off") error.textContent = e instanceof Error ? e.message : String(e);
    }
    await show();
    toggle.disabled = false;
  });

  const dialog = el(
    "dialog",
    { class: "settings-dialog", "aria-labelledby": "notifications-heading" },
    el("h2", { id: "notifications-heading" }, "Notifications"),
    status,
    error,
    toggle,
    previewsSetting(me),
    el("p", { class: "hint" }, "When this is off, notifications say only “New message”."),
    el("form", { method: "dialog" }, el("button", { type: "submit" }, "Close")),
  );
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  void show();
}
