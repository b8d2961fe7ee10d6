// The staff page (/app/moderation): the open reports, each with the message as it read when reported, who
// reported whom and why, and the three decisions; below them the moderation log. The API wants a token
// carrying `admin`, which the app asks staff for only from here: everyday sign-ins stay without it, and
// the consent page asks each time `admin` is requested.
import { ApiError, decideReport, moderationLog, openReports, user, type Decision } from "../api";
import { grantedScopes, signIn } from "../auth";
import { el, nameOf, shortTime } from "../dom";
import { BASE, SCOPES, type ModerationAction, type PublicUser, type Report, type UserResource } from "../types";
import { askDialog } from "./ask-dialog";
import { ATTACHMENT_ONLY, mentionText } from "./message-text";

export const MODERATION_PATH = `${BASE}moderation`;
const ADMIN = "admin";
/** Set while a sign-in asking for `admin` is under way: coming back without it means it was refused. */
const ASKED_KEY = "hey.asked-admin";

const DECISIONS: Record<Decision, { button: string; title: string; intro: (sender: string) => string; action: (sender: string) => string; danger: boolean }> = {
  dismiss: {
    button: "Dismiss",
    title: "Dismiss the report",
    intro: () => "Nothing is wrong with the message: it stays.",
    action: () => "Dismiss",
    danger: false,
  },
  "delete-message": {
    button: "Delete message",
    title: "Delete the message",
    intro: () => "Everyone in the conversation will see “Removed by a moderator” in its place. Every open report of it is resolved.",
    action: () => "Delete message",
    danger: true,
  },
  "deactivate-sender": {
    button: "Deactivate sender",
    title: "Deactivate the sender",
    intro: (sender) => `${sender} will be signed out everywhere and won't be able to sign in again. Every open report of their messages is resolved.`,
    action: (sender) => `Deactivate ${sender}`,
    danger: true,
  },
};

const DONE: Record<ModerationAction["action"], string> = {
  dismiss: "dismissed the report",
  delete_message: "deleted the message",
  deactivate_sender: "deactivated the sender",
};

const MENTION = /<@(\d+)>/g;

/** People by id, fetched once per page load; with `admin` the API shows anyone. */
const people = new Map<number, Promise<PublicUser | null>>();
function person(id: number): Promise<PublicUser | null> {
  let found = people.get(id);
  if (!found) {
    found = user(id).catch(() => null);
    people.set(id, found);
  }
  return found;
}

export function moderationView(me: UserResource): HTMLElement {
  const heading = el("h2", { class: "conversation-title", id: "moderation-title", tabindex: -1 }, "Moderation");
  const status = el("p", { class: "moderation-status", role: "status" });
  const queue = el("ol", { class: "reports", "aria-label": "Open reports" });
  const log = el("ol", { class: "moderation-log", "aria-label": "Moderation log" });
  const refresh = el("button", { type: "button", onclick: () => void load() }, "Refresh");
  const body = el("div", { class: "moderation-body" }, status, el("h3", {}, "Open reports"), queue, el("h3", {}, "Moderation log"), log);
  const element = el(
    "section",
    { class: "moderation", "aria-labelledby": heading.id },
    el("header", { class: "conversation-header" }, el("a", { href: BASE, class: "back", "aria-label": "Back to chats" }, "‹ Chats"), el("div", {}, heading), refresh),
    body,
  );
  document.title = "Moderation · Hey";

  function askForAdmin(refused: string): void {
    refresh.hidden = true;
    const button = el("button", { type: "button", class: "primary" }, "Sign in for moderation");
    button.addEventListener("click", () => {
      button.disabled = true;
      sessionStorage.setItem(ASKED_KEY, "1");
      void signIn(MODERATION_PATH, me.email, `${SCOPES} ${ADMIN}`).catch((e: Error) => {
        button.disabled = false;
        status.textContent = e.message;
      });
    });
    body.replaceChildren(
      status,
      el("p", {}, "Moderating needs administrator access, which Hey grants staff only when they ask for it. Sign in again to ask for it; Hey will show what it lets the app do."),
      button,
    );
    status.textContent = refused;
  }

  async function load(): Promise<void> {
    const asked = sessionStorage.getItem(ASKED_KEY) !== null;
    sessionStorage.removeItem(ASKED_KEY);
    if (!grantedScopes().includes(ADMIN)) return askForAdmin(asked ? "The last sign-in did not grant administrator access." : "");
    status.textContent = "Loading…";
    try {
      const [reports, actions] = await Promise.all([openReports(), moderationLog()]);
      const ids = [
        ...reports.results.flatMap((r) => [r.reporter_id, r.sender_id, ...[...r.message_body.matchAll(MENTION)].map((m) => Number(m[1]))]),
        ...actions.results.map((a) => a.actor_id),
      ];
      const found = new Map(await Promise.all([...new Set(ids)].map(async (id) => [id, await person(id)] as const)));
      const who = (id: number) => {
        const p = found.get(id);
        return p ? nameOf(p) : `User ${id}`;
      };
      queue.replaceChildren(...reports.results.map((r) => reportItem(r, who, (id) => found.get(id) ?? undefined)));
      log.replaceChildren(...(actions.results.length ? actions.results.map((a) => actionItem(a, who)) : [el("li", { class: "hint" }, "No decisions yet.")]));
      const shown = reports.results.length;
      status.textContent = reports.count === 0 ? "No open reports." : `${reports.count} open ${reports.count === 1 ? "report" : "reports"}${reports.count > shown ? `, the newest ${shown} shown` : ""}.`;
    } catch (e) {
      // Made staff, or the grant narrowed, since this token was issued.
      if (e instanceof ApiError && e.status === 403) return askForAdmin(e.message);
      status.textContent = e instanceof Error ? e.message : String(e);
    }
  }

  function reportItem(report: Report, who: (id: number) => string, names: (id: number) => PublicUser | undefined): HTMLLIElement {
    const sender = who(report.sender_id);
    const text = mentionText(report.message_body, names).trim();
    return el(
      "li",
      { class: "report", "data-report": report.id },
      el(
        "p",
        { class: "report-meta" },
        el("strong", {}, who(report.reporter_id)),
        " reported ",
        el("strong", {}, sender),
        " · ",
        el("time", { datetime: report.created_at, title: new Date(report.created_at).toLocaleString() }, shortTime(report.created_at)),
        ` · conversation ${report.conversation_id}, message ${report.seq}`,
      ),
      el("blockquote", { class: "report-body" }, text || ATTACHMENT_ONLY),
      el("p", { class: "report-reason" }, el("span", { class: "report-label" }, "Reason: "), report.reason),
      el("div", { class: "row" }, ...(Object.keys(DECISIONS) as Decision[]).map((decision) => decisionButton(report, decision, sender))),
    );
  }

  function decisionButton(report: Report, decision: Decision, sender: string): HTMLButtonElement {
    const words = DECISIONS[decision];
    const open = () =>
      askDialog({
        title: words.title,
        intro: words.intro(sender),
        label: "Note for the log (optional)",
        required: false,
        maxlength: 1000,
        action: words.action(sender),
        danger: words.danger,
        run: async (note) => {
          try {
            await decideReport(report.id, decision, note);
          } finally {
            // Resolved here or, on a 409, by someone else meanwhile: either way the queue has changed.
            void load();
          }
        },
      });
    return el("button", { type: "button", class: words.danger ? "danger" : null, onclick: open }, words.button);
  }

  void load();
  queueMicrotask(() => heading.focus());
  return element;
}

function actionItem(action: ModerationAction, who: (id: number) => string): HTMLLIElement {
  return el(
    "li",
    { class: "moderation-action" },
    el("time", { datetime: action.created_at, title: new Date(action.created_at).toLocaleString() }, shortTime(action.created_at)),
    " ",
    el("strong", {}, who(action.actor_id)),
    ` ${DONE[action.action]} (report ${action.report_id})`,
    action.note ? el("span", { class: "moderation-note" }, ` — “${action.note}”`) : null,
  );
}
