import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { secured } from "../auth/bearer";
import { revoked } from "../auth/revocation";
import type { ReportRow } from "../db/schema";
import type { AppEnv } from "../env";
import { DomainError } from "../errors";
import { jsonBody, jsonResponse, problems } from "../http/openapi";
import { pageOf, PageQuery, pageResult, pageWindow } from "../http/pagination";
import { IdParam } from "../http/params";
import { createRouter } from "../http/router";
import { MessageParams } from "../messages/routes";
import { settled } from "../realtime/outcome";
import { room } from "../realtime/room-stub";
import { updateUserFlags } from "../users/profile";
import { FiledReportSchema, ModerationActionSchema, NewReportSchema, ReportQuery, ReportSchema, ResolutionSchema } from "./schemas";
import { listActions, listReports, reportById, resolveReport, type ModerationAction } from "./store";

const tags = ["Moderation"];

const toReport = (r: ReportRow) => ({
  id: r.id,
  conversation_id: r.conversationId,
  message_id: r.messageId,
  seq: r.seq,
  sender_id: r.senderId,
  message_body: r.body,
  reporter_id: r.reporterId,
  reason: r.reason,
  status: r.status,
  created_at: r.createdAt.toISOString(),
  resolved_at: r.resolvedAt?.toISOString() ?? null,
  resolved_by: r.resolvedBy,
});

const file = createRoute({
  method: "post",
  path: "/api/conversations/{id}/messages/{message_id}/report/",
  tags,
  summary: "Report a message to the moderators",
  operationId: "reportMessage",
  description:
    "A participant reports someone else's message, saying why; staff see it in the queue with a copy of the message as it read then. " +
    "Reporting the same message again answers the first report (200). Deleted messages can't be reported (409).",
  ...secured("read:messages"),
  request: { params: MessageParams, body: jsonBody(NewReportSchema) },
  responses: { 200: jsonResponse(FiledReportSchema, "Already reported."), 201: jsonResponse(FiledReportSchema, "Reported."), ...problems(400, 401, 403, 404, 409) },
});

const queue = createRoute({
  method: "get",
  path: "/api/moderation/reports/",
  tags,
  summary: "The reports (staff)",
  operationId: "listReports",
  description: "Needs `admin` and a staff user. Newest first; `status=open` is the queue.",
  ...secured("admin"),
  request: { query: PageQuery.extend(ReportQuery.shape) },
  responses: { 200: jsonResponse(pageOf(ReportSchema, "ReportPage"), "A page of reports."), ...problems(400, 401, 403, 404) },
});

const one = createRoute({
  method: "get",
  path: "/api/moderation/reports/{id}/",
  tags,
  summary: "A report (staff)",
  operationId: "getReport",
  description: "Needs `admin` and a staff user.",
  ...secured("admin"),
  request: { params: IdParam },
  responses: { 200: jsonResponse(ReportSchema, "The report."), ...problems(401, 403, 404) },
});

const DECISIONS = {
  dismiss: "Dismiss: nothing wrong (the message stays).",
  "delete-message": "Delete the message: it becomes a tombstone with `deleted_by: \"moderator\"` for everyone; every open report of it is resolved.",
  "deactivate-sender": "Deactivate the sender: they are signed out everywhere and can't sign in; every open report of their messages is resolved.",
} as const;
const ACTION: Record<keyof typeof DECISIONS, ModerationAction> = { dismiss: "dismiss", "delete-message": "delete_message", "deactivate-sender": "deactivate_sender" };

const decide = (decision: keyof typeof DECISIONS) =>
  createRoute({
    method: "post",
    path: `/api/moderation/reports/{id}/${decision}/`,
    tags,
    summary: DECISIONS[decision].split(":")[0]!,
    operationId: { dismiss: "dismissReport", "delete-message": "deleteReportedMessage", "deactivate-sender": "deactivateReportedSender" }[decision],
    description: `Needs \`admin\` and a staff user. ${DECISIONS[decision]} Logged with who, when and the note. 409 once the report is resolved.`,
    ...secured("admin"),
    request: { params: IdParam, body: { required: false, content: { "application/json": { schema: ResolutionSchema } } } },
    responses: { 200: jsonResponse(ReportSchema, "The report, resolved."), ...problems(400, 401, 403, 404, 409) },
  });

const log = createRoute({
  method: "get",
  path: "/api/moderation/actions/",
  tags,
  summary: "The moderation log (staff)",
  operationId: "listModerationActions",
  description: "Needs `admin` and a staff user. Every decision on a report, newest first: who, when, what, and the note.",
  ...secured("admin"),
  request: { query: PageQuery },
  responses: { 200: jsonResponse(pageOf(ModerationActionSchema, "ModerationActionPage"), "A page of the log."), ...problems(400, 401, 403, 404) },
});

async function openReport(c: Context<AppEnv>, id: number): Promise<ReportRow> {
  const report = await reportById(c.var.db, id);
  if (!report) throw new DomainError(404, "No such report.");
  if (report.status !== "open") throw new DomainError(409, `This report was already resolved (${report.status.replace("_", " ")}).`);
  return report;
}

async function resolved(c: Context<AppEnv>, report: ReportRow, action: ModerationAction, note: string | undefined) {
  const row = await resolveReport(c.var.db, report, c.get("auth").userId, action, note ?? null);
  if (!row) throw new DomainError(409, "This report was resolved meanwhile.");
  return c.json(toReport(row), 200);
}

const note = (c: Context<AppEnv>) => (c.req.valid("json" as never) as { note?: string } | undefined)?.note;

export const moderationRoutes = createRouter()
  .openapi(file, async (c) => {
    const { id, message_id } = c.req.valid("param");
    const { report, created } = settled(c.var.reads, await room(c.env, id).report(id, c.get("auth").userId, message_id, c.req.valid("json").reason));
    const filed = { id: report.id, message_id: report.messageId, reason: report.reason, status: report.status, created_at: report.createdAt.toISOString() };
    return created ? c.json(filed, 201) : c.json(filed, 200);
  })
  .openapi(queue, async (c) => {
    const query = c.req.valid("query");
    const { offset, limit } = pageWindow(c, query);
    const { count, rows } = await listReports(c.var.db, query.status, offset, limit);
    return c.json(pageResult(c, query, count, rows.map(toReport)), 200);
  })
  .openapi(one, async (c) => {
    const report = await reportById(c.var.db, c.req.valid("param").id);
    if (!report) throw new DomainError(404, "No such report.");
    return c.json(toReport(report), 200);
  })
  .openapi(decide("dismiss"), async (c) => resolved(c, await openReport(c, c.req.valid("param").id), ACTION.dismiss, note(c)))
  .openapi(decide("delete-message"), async (c) => {
    const report = await openReport(c, c.req.valid("param").id);
    const outcome = await room(c.env, report.conversationId).moderatorDelete(report.conversationId, report.messageId);
    // A conversation deleted since is gone with its messages: the decision stands all the same.
    if (!outcome.ok && outcome.status !== 404) settled(c.var.reads, outcome);
    return resolved(c, report, ACTION["delete-message"], note(c));
  })
  .openapi(decide("deactivate-sender"), async (c) => {
    const report = await openReport(c, c.req.valid("param").id);
    if (report.senderId === c.get("auth").userId) throw new DomainError(400, "You can't deactivate yourself.");
    const { user } = await updateUserFlags(c.var.db, report.senderId, { is_active: false });
    await revoked(c.env, c.var.db, user.id, null);
    return resolved(c, report, ACTION["deactivate-sender"], note(c));
  })
  .openapi(log, async (c) => {
    const query = c.req.valid("query");
    const { offset, limit } = pageWindow(c, query);
    const { count, rows } = await listActions(c.var.db, offset, limit);
    const results = rows.map((a) => ({ id: a.id, report_id: a.reportId, actor_id: a.actorId, action: a.action, note: a.note, created_at: a.createdAt.toISOString() }));
    return c.json(pageResult(c, query, count, results), 200);
  });
