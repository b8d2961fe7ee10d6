// Reporting someone else's message to the moderators, with the reporter's reason; and the words a deleted
// message shows, which say who deleted it (a report's outcome can be "Removed by a moderator").
import { reportMessage } from "../api";
import { el } from "../dom";
import type { MessageResource } from "../types";
import { askDialog } from "./ask-dialog";

export const REPORTED = "Reported. Thank you — moderators will review it.";

/** The action-menu button of a message from someone else; `label` is the message's short name for assistive tech. */
export function reportButton(message: MessageResource, label: string): HTMLButtonElement {
  return el("button", { type: "button", "aria-label": `Report message: ${label}`, onclick: () => reportDialog(message) }, "Report");
}

function reportDialog(message: MessageResource): void {
  askDialog({
    title: "Report message",
    intro: "Moderators will see this message as it reads now, and your reason.",
    label: "Why are you reporting it?",
    required: true,
    maxlength: 1000,
    action: "Report",
    run: async (reason) => {
      await reportMessage(message.conversation, message.id, reason);
      return REPORTED;
    },
  });
}

const TOMBSTONES: Record<NonNullable<MessageResource["deleted_by"]>, string> = {
  sender: "Message deleted",
  owner: "Deleted by the owner",
  moderator: "Removed by a moderator",
  expiry: "Disappeared",
};

/** What a deleted message shows in place of its text. */
export const tombstone = (message: MessageResource): string => (message.deleted_by ? TOMBSTONES[message.deleted_by] : "Message deleted");
