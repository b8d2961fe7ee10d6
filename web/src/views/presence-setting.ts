// "Show when I'm online": whether people who share a conversation with the user see their presence.
import { updateMe } from "../api";
import { el } from "../dom";
import type { UserResource } from "../types";

export function presenceSetting(me: UserResource): HTMLElement {
  const box = el("input", { type: "checkbox", checked: me.show_presence });
  box.addEventListener("change", async () => {
    box.disabled = true;
    try {
      me.show_presence = (await updateMe({ show_presence: box.checked })).show_presence;
    } catch {
      // Not saved: show what the others still see.
    } finally {
      box.checked = me.show_presence;
      box.disabled = false;
    }
  });
  return el("label", { class: "presence-setting" }, box, "Show when I'm online");
}
