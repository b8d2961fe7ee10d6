import { and, count, desc, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { moderationActions, reports, type ReportRow } from "../db/schema";
import { batch } from "../db/compiled";

export type ReportStatus = ReportRow["status"];
export type ModerationAction = (typeof moderationActions.$inferSelect)["action"];

/**
 * Files a participant's report of a message, with a copy of what it says now. Reporting the same message
 * again answers the first report (created: false).
 */
export async function fileReport(db: Database, input: Omit<typeof reports.$inferInsert, "id" | "status" | "createdAt">) {
  const [row] = await db
    .insert(reports)
    .values({ ...input, createdAt: new Date() })
    .onConflictDoNothing()
    .returning();
  if (row) return { report: row, created: true };
  const [first] = await db.select().from(reports).where(and(eq(reports.reporterId, input.reporterId), eq(reports.messageId, input.messageId)));
  return { report: first!, created: false };
}

export async function listReports(db: Database, status: ReportStatus | undefined, offset: number, limit: number) {
  const where = status ? eq(reports.status, status) : undefined;
  const [[total], rows] = await batch(db, [
    db.select({ n: count() }).from(reports).where(where),
    db.select().from(reports).where(where).orderBy(desc(reports.id)).limit(limit).offset(offset),
  ]);
  return { count: total?.n ?? 0, rows };
}

export function reportById(db: Database, id: number): Promise<ReportRow | undefined> {
  return db.select().from(reports).where(eq(reports.id, id)).get();
}

/**
 * Resolves an open report and logs who did what, in one batch; every other open report of the same message
 * (or, for a deactivation, of the same sender) is resolved with it. Null when the report is not open.
 */
export async function resolveReport(db: Database, report: ReportRow, actorId: number, action: ModerationAction, note: string | null): Promise<ReportRow | null> {
  const status: ReportStatus = action === "dismiss" ? "dismissed" : action === "delete_message" ? "message_deleted" : "sender_deactivated";
  const now = new Date();
  const same = action === "deactivate_sender" ? eq(reports.senderId, report.senderId) : eq(reports.messageId, report.messageId);
  const [resolved] = await batch(db, [
    db
      .update(reports)
      .set({ status, resolvedAt: now, resolvedBy: actorId })
      .where(and(eq(reports.status, "open"), action === "dismiss" ? eq(reports.id, report.id) : same))
      .returning(),
    db.insert(moderationActions).values({ reportId: report.id, actorId, action, note, createdAt: now }),
  ]);
  return resolved.find((r) => r.id === report.id) ?? null;
}

export async function listActions(db: Database, offset: number, limit: number) {
  const [[total], rows] = await batch(db, [
    db.select({ n: count() }).from(moderationActions),
    db.select().from(moderationActions).orderBy(desc(moderationActions.id)).limit(limit).offset(offset),
  ]);
  return { count: total?.n ?? 0, rows };
}
