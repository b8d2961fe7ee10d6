// The files going with the next message. Each starts uploading as soon as it is added, with a progress
// bar; once stored it shows as a chip with its name, size and a × to take it off. A failed upload says
// why (the server's words: too large, over the quota) and stays until taken off.
import { MAX_ATTACHMENTS } from "../../../src/messages/limits";
import { el } from "../dom";
import type { Attachment } from "../types";
import type { Upload } from "../upload";
import { fileSize } from "./attachments";

type Entry = { file: File; upload: Upload; progress: number; attachment: Attachment | null; error: string | null };

export type Tray = {
  element: HTMLElement;
  add(files: Iterable<File>): void;
  /** True while a file is still uploading: the message waits for it. */
  busy(): boolean;
  /** The stored attachments, in the order they were added. */
  ready(): Attachment[];
  /** Empties the tray: the message went with what was ready, or the conversation closed (uploads stop). */
  clear(): void;
};

/** `upload` starts one upload; `changed` hears every change of what the tray holds. */
export function attachmentTray(upload: (file: File, progress: (fraction: number) => void) => Upload, changed: () => void): Tray {
  const entries: Entry[] = [];
  const list = el("ul", { class: "tray", "aria-label": "Files to send" });
  const notice = el("p", { class: "notice", role: "alert" });

  function render(): void {
    list.replaceChildren(...entries.map(item));
    changed();
  }

  function item(entry: Entry): HTMLLIElement {
    const label = `${entry.file.name} (${fileSize(entry.file.size)})`;
    const remove = el("button", { type: "button", class: "remove", "aria-label": `Remove ${entry.file.name}`, onclick: () => take(entry) }, "×");
    const state = entry.error
      ? el("span", { class: "tray-error" }, entry.error)
      : entry.attachment
        ? null
        : el("progress", { max: 1, value: entry.progress, "aria-label": `Uploading ${entry.file.name}` });
    return el("li", { class: `chip${entry.error ? " failed" : ""}`, "data-state": entry.error ? "failed" : entry.attachment ? "ready" : "uploading" }, el("span", { class: "chip-name" }, label), state, remove);
  }

  function take(entry: Entry): void {
    entry.upload.cancel();
    entries.splice(entries.indexOf(entry), 1);
    notice.textContent = "";
    render();
  }

  function add(files: Iterable<File>): void {
    for (const file of files) {
      if (entries.filter((e) => !e.error).length >= MAX_ATTACHMENTS) {
        notice.textContent = `A message can carry at most ${MAX_ATTACHMENTS} files.`;
        break;
      }
      const entry: Entry = { file, upload: upload(file, (fraction) => progressed(entry, fraction)), progress: 0, attachment: null, error: null };
      entries.push(entry);
      entry.upload.done.then(
        (attachment) => (entry.attachment = attachment),
        (error: Error) => (entry.error = error.name === "AbortError" ? null : error.message),
      ).then(() => entries.includes(entry) && render());
    }
    render();
  }

  /** Moves the bar in place: rebuilding the list on every progress event would restart its animation. */
  function progressed(entry: Entry, fraction: number): void {
    entry.progress = fraction;
    const bar = list.children[entries.indexOf(entry)]?.querySelector("progress");
    if (bar) bar.value = fraction;
  }

  return {
    element: el("div", { class: "tray-area" }, list, notice),
    add,
    busy: () => entries.some((e) => !e.attachment && !e.error),
    ready: () => entries.flatMap((e) => (e.attachment ? [e.attachment] : [])),
    clear() {
      for (const entry of entries) entry.upload.cancel();
      entries.length = 0;
      notice.textContent = "";
      render();
    },
  };
}

/** Makes `area` take dropped files, marked (class `dropping`) while files are dragged over it. */
export function dropZone(area: HTMLElement, add: (files: FileList) => void): void {
  const carriesFiles = (event: DragEvent) => event.dataTransfer?.types.includes("Files") ?? false;
  area.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    // Cancelling dragover is what allows a drop here (instead of the browser opening the file).
    event.preventDefault();
    event.dataTransfer!.dropEffect = "copy";
    area.classList.add("dropping");
  });
  area.addEventListener("dragleave", (event) => {
    if (!area.contains(event.relatedTarget as Node | null)) area.classList.remove("dropping");
  });
  area.addEventListener("drop", (event) => {
    area.classList.remove("dropping");
    if (!carriesFiles(event)) return;
    event.preventDefault();
    add(event.dataTransfer!.files);
  });
}
