// "Download my data": the user's data export, which the server builds in the background. Nothing is asked
// until the user clicks: GET starts an export when there is none, so merely opening the settings must not
// call it. The first click GETs (a ready export from earlier downloads at once, one being built is waited
// for); "Prepare again" POSTs a fresh one.
import { currentExport, startExport } from "../api";
import { el } from "../dom";
import type { DataExport } from "../types";
import { fileSize } from "./attachments";

/** How often an export being built is asked after, while the section is shown. */
const POLL_MS = 2000;
/** A ready export's download link is renewed this long before it stops working, while the section is shown. */
const RENEW_BEFORE_MS = 60_000;

const when = (iso: string) => new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });

/** The settings' section; call `stop` when it goes, which ends the asking. */
export function dataExportSection(): { element: HTMLElement; stop(): void } {
  const status = el("p", { class: "export-status", role: "status" });
  const link = el("a", { class: "export-link", download: true, hidden: true });
  const error = el("p", { class: "field-error", role: "alert" });
  const prepare = el("button", { type: "button" }, "Prepare my data");
  let latest: DataExport | null = null;
  let timer: number | undefined;
  let stopped = false;

  async function ask(request: () => Promise<DataExport>): Promise<void> {
    window.clearTimeout(timer);
    prepare.disabled = true;
    error.textContent = "";
    try {
      const answer = await request();
      if (!stopped) show(answer);
    } catch (e) {
      // Asking stops here; the button asks again (GET, so a pending export is not started twice).
      latest = null;
      status.textContent = "";
      link.hidden = true;
      error.textContent = `Your data could not be prepared: ${e instanceof Error ? e.message : String(e)}`;
      prepare.textContent = "Prepare my data";
      prepare.hidden = false;
    } finally {
      prepare.disabled = false;
    }
  }

  function show(current: DataExport): void {
    latest = current;
    const ready = current.status === "ready" && current.url !== null;
    const said = ready ? `Ready since ${when(current.ready_at ?? current.created_at)}. Hey keeps it until ${when(current.expires_at)}.` : "Preparing… You can close this and come back.";
    // Said again only when it changes: a live region repeats whatever is written to it.
    if (status.textContent !== said) status.textContent = said;
    link.hidden = prepare.hidden = !ready;
    if (ready) {
      link.setAttribute("href", current.url!);
      link.textContent = current.size === null ? "Download my data" : `Download my data (${fileSize(current.size)})`;
      prepare.textContent = "Prepare again";
    }
    const delay = ready && current.url_expires_at ? Date.parse(current.url_expires_at) - Date.now() - RENEW_BEFORE_MS : POLL_MS;
    timer = window.setTimeout(() => void ask(currentExport), Math.max(POLL_MS, delay));
  }

  prepare.addEventListener("click", () => void ask(latest?.status === "ready" ? startExport : currentExport));

  const element = el(
    "section",
    { class: "account-section", "aria-labelledby": "export-heading" },
    el("h3", { id: "export-heading" }, "Download my data"),
    el("p", { class: "hint" }, "One JSON file with your profile, your conversations and the messages and reactions you sent. Hey prepares it in the background."),
    status,
    el("div", { class: "row" }, link, prepare),
    error,
  );
  const stop = () => {
    stopped = true;
    window.clearTimeout(timer);
  };
  return { element, stop };
}
