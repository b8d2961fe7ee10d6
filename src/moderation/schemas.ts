import { z } from "@hono/zod-openapi";

export const NewReportSchema = z
  .object({ reason: z.string().trim().min(1, "Say what is wrong with the message.").max(1000).openapi({ description: "Why, in the reporter's words (up to 1,000 characters)." }) })
  .strict()
  .openapi("NewReport");

const STATUSES = ["open", "dismissed", "message_deleted", "sender_deactivated"] as const;

export const ReportSchema = z
  .object({
    id: z.int(),
    conversation_id: z.int(),
    message_id: z.int(),
    seq: z.int(),
    sender_id: z.int(),
    message_body: z.string().openapi({ description: "The message as it read when it was reported." }),
    reporter_id: z.int(),
    reason: z.string(),
    status: z.enum(STATUSES),
    created_at: z.iso.datetime(),
    resolved_at: z.iso.datetime().nullable(),
    resolved_by: z.int().nullable(),
  })
  .openapi("Report");

/** What a reporter sees of their report: not the other reports, nor who resolved it. */
export const FiledReportSchema = ReportSchema.pick({ id: true, message_id: true, reason: true, status: true, created_at: true }).openapi("FiledReport");

export const ReportQuery = z.object({ status: z.enum(STATUSES).optional().openapi({ description: "Only reports in this state (`open`: the queue)." }) });

export const ResolutionSchema = z
  .object({ note: z.string().trim().max(1000).optional().openapi({ description: "Why, for the log." }) })
  .strict()
  .openapi("ReportResolution");

export const ModerationActionSchema = z
  .object({
    id: z.int(),
    report_id: z.int(),
    actor_id: z.int(),
    action: z.enum(["dismiss", "delete_message", "deactivate_sender"]),
    note: z.string().nullable(),
    created_at: z.iso.datetime(),
  })
  .openapi("ModerationAction");
