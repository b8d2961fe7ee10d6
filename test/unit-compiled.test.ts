import { env } from "cloudflare:test";
import { asc, eq, gt, inArray, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../src/db/client";
import { batch, compile, every, first, qb } from "../src/db/compiled";
import { conversations, users } from "../src/db/schema";

const db = database(env.DB);

const emailOf = (tag: string) => `compiled-${tag}-${crypto.randomUUID()}@example.com`;

/** A user inserted straight into D1 (only the NOT NULL columns without a default, plus `extra`), read back whole. */
async function userOf(tag: string, extra: Partial<typeof users.$inferInsert> = {}) {
  const [user] = await db
    .insert(users)
    .values({ email: emailOf(tag), passwordHash: "unused", ...extra })
    .returning();
  return user!;
}

/** A conversation owned by `ownerId`. */
async function conversationOf(ownerId: number, title: string | null) {
  const now = new Date();
  const [conversation] = await db.insert(conversations).values({ ownerId, title, updatedAt: now, lastActivityAt: now }).returning();
  return conversation!;
}

describe("compile, every and first: rows as drizzle reads them", () => {
  // One selection for both sides: a whole table nested, expressions with and without mapWith, an alias.
  const selection = {
    user: users,
    doubled: sql<string>`${users.id} * 2`.mapWith(String),
    joined: sql<Date>`max(${users.createdAt}, 0)`.mapWith(users.createdAt),
    staffWord: sql<string>`CASE WHEN ${users.isStaff} THEN 'staff' ELSE 'member' END`.as("staff_word"),
    nothing: sql<number | null>`NULL`.mapWith(Number),
    raw: sql<number>`${users.id} + 0`,
  };
  const byId = compile(["id"], (p) => qb.select(selection).from(users).where(eq(users.id, p.id)));

  it("nests a table's columns with their mappings (timestamps as Dates, booleans, nulls), applies mapWith, and equals drizzle's rows", async () => {
    const deletedAt = new Date(Date.UTC(2024, 1, 29, 12, 30, 45, 123));
    const staff = await userOf("nested-staff", { isStaff: true, showPresence: false, deletedAt, phoneNumber: "+15550001111", firstName: "Grace" });
    const plain = await userOf("nested-plain");

    for (const u of [staff, plain]) {
      const rows = await every(byId.bind(db, { id: u.id }));
      expect(rows).toEqual(await db.select(selection).from(users).where(eq(users.id, u.id)));
      expect(rows).toHaveLength(1);
      const [row] = rows;
      // The nested user is the row drizzle read back from the insert, column for column.
      expect(row!.user).toEqual(u);
      expect(row!.user.createdAt).toBeInstanceOf(Date);
      expect(row!.doubled).toBe(String(u.id * 2));
      expect(row!.joined).toBeInstanceOf(Date);
      expect(row!.joined).toEqual(u.createdAt);
      // An expression without mapWith comes as D1 gives it; NULL stays null even through mapWith(Number).
      expect(row!.raw).toBe(u.id);
      expect(row!.nothing).toBeNull();
    }
    const [staffRow] = await every(byId.bind(db, { id: staff.id }));
    expect(staffRow!.user).toMatchObject({ isStaff: true, showPresence: false, isActive: true, deletedAt, phoneNumber: "+15550001111", bio: null, firstName: "Grace" });
    expect(staffRow!.user.deletedAt).toBeInstanceOf(Date);
    expect(staffRow!.staffWord).toBe("staff");
    const [plainRow] = await every(byId.bind(db, { id: plain.id }));
    expect(plainRow!.user).toMatchObject({ isStaff: false, showPresence: true, deletedAt: null, phoneNumber: null });
    expect(plainRow!.staffWord).toBe("member");
  });

  it("first gives the first row, or undefined when there is none", async () => {
    const u = await userOf("first");
    expect(await first(byId.bind(db, { id: u.id }))).toEqual((await db.select(selection).from(users).where(eq(users.id, u.id)))[0]);
    expect(await first(byId.bind(db, { id: -1 }))).toBeUndefined();
  });

  it("reads a join with two tables nested, several rows in order, as drizzle does", async () => {
    const owner = await userOf("join-owner", { isStaff: true });
    const a = await conversationOf(owner.id, "first");
    const b = await conversationOf(owner.id, null);
    const fields = { conversation: conversations, owner: { id: users.id, staff: users.isStaff, created: users.createdAt } };
    const owned = compile(["ownerId"], (p) =>
      qb.select(fields).from(conversations).innerJoin(users, eq(users.id, conversations.ownerId)).where(eq(conversations.ownerId, p.ownerId)).orderBy(asc(conversations.id)),
    );
    const rows = await every(owned.bind(db, { ownerId: owner.id }));
    expect(rows).toEqual(
      await db.select(fields).from(conversations).innerJoin(users, eq(users.id, conversations.ownerId)).where(eq(conversations.ownerId, owner.id)).orderBy(asc(conversations.id)),
    );
    expect(rows.map((r) => r.conversation)).toEqual([a, b]);
    expect(rows[1]!.conversation.title).toBeNull();
    expect(rows[0]!.conversation.lastDeleted).toBe(false);
    expect(rows[0]!.conversation.updatedAt).toBeInstanceOf(Date);
    expect(rows[0]!.owner).toEqual({ id: owner.id, staff: true, created: owner.createdAt });
  });
});

describe("placeholders", () => {
  it("binds a Date through the column's encoder where the placeholder is tied to a column (sql.param in a comparison)", async () => {
    const before = await userOf("when-before", { firstName: "WhenCmp", createdAt: new Date(Date.UTC(2020, 0, 1)) });
    const after = await userOf("when-after", { firstName: "WhenCmp", createdAt: new Date(Date.UTC(2020, 0, 3)) });
    const since = compile(["when", "name"], (p) =>
      qb
        .select({ id: users.id })
        .from(users)
        .where(sql`${gt(users.createdAt, sql.param(p.when, users.createdAt))} AND ${eq(users.firstName, p.name)}`)
        .orderBy(asc(users.id)),
    );
    const cut = new Date(Date.UTC(2020, 0, 2));
    const bound = since.bind(db, { when: cut, name: "WhenCmp" });
    expect(bound.params).toEqual([cut.getTime(), "WhenCmp"]);
    const rows = await every(bound);
    expect(rows).toEqual([{ id: after.id }]);
    expect(rows).toEqual(await db.select({ id: users.id }).from(users).where(sql`${gt(users.createdAt, cut)} AND ${eq(users.firstName, "WhenCmp")}`));
    expect(await every(since.bind(db, { when: new Date(Date.UTC(2019, 0, 1)), name: "WhenCmp" }))).toEqual(
      [before, after].map((u) => ({ id: u.id })).sort((x, y) => x.id - y.id),
    );
  });

  it("binds inserted values through their columns' encoders (Date to ms, boolean to 0/1, null as null)", async () => {
    const insert = compile(["email", "staff", "deletedAt"], (p) => qb.insert(users).values({ email: p.email, passwordHash: "unused", isStaff: p.staff, deletedAt: p.deletedAt }));
    const deletedAt = new Date(Date.UTC(2023, 6, 14, 9, 0, 0, 7));
    const withDate = { email: emailOf("enc-date"), staff: true, deletedAt };
    const withNull = { email: emailOf("enc-null"), staff: false, deletedAt: null };
    const bound = insert.bind(db, withDate);
    // The values drizzle itself binds for the same insert written with the values in place.
    expect(bound.params).toEqual(db.insert(users).values({ email: withDate.email, passwordHash: "unused", isStaff: true, deletedAt }).toSQL().params);
    expect(bound.params).toContain(deletedAt.getTime());
    expect(bound.params.some((v) => v instanceof Date || typeof v === "boolean")).toBe(false);
    await every(bound);
    await every(insert.bind(db, withNull));
    const read = async (email: string) => (await db.select({ isStaff: users.isStaff, deletedAt: users.deletedAt }).from(users).where(eq(users.email, email)))[0];
    expect(await read(withDate.email)).toEqual({ isStaff: true, deletedAt });
    expect(await read(withNull.email)).toEqual({ isStaff: false, deletedAt: null });
    // Stored as drizzle stores them: integers.
    const stored = await env.DB.prepare("SELECT is_staff, deleted_at FROM users WHERE email = ?").bind(withDate.email).first();
    expect(stored).toEqual({ is_staff: 1, deleted_at: deletedAt.getTime() });
  });

  it("binds a placeholder compared with eq/gt as given, as drizzle's own prepared statement does (eq drops the column's encoder)", async () => {
    const u = await userOf("bare");
    const byId = compile(["id"], (p) => qb.select({ email: users.email }).from(users).where(eq(users.id, p.id)));
    expect(await every(byId.bind(db, { id: u.id }))).toEqual([{ email: u.email }]);

    const when = new Date(0);
    const since = compile(["when"], (p) => qb.select({ id: users.id }).from(users).where(gt(users.createdAt, p.when)));
    // The Date reaches D1 as it is, which refuses it as soon as it is bound.
    expect(() => since.bind(db, { when })).toThrow(/not supported/);
    await expect(db.select({ id: users.id }).from(users).where(gt(users.createdAt, sql.placeholder("when"))).prepare().all({ when })).rejects.toThrow(Error);
    // A driver value works there.
    expect(await every(since.bind(db, { when: u.createdAt.getTime() - 1 }))).toContainEqual({ id: u.id });
  });

  it("throws an Error naming a placeholder with no value, bare or tied to a column", () => {
    const byEmail = compile(["email", "name"], (p) => qb.select({ id: users.id }).from(users).where(sql`${eq(users.email, p.email)} AND ${eq(users.firstName, p.name)}`));
    expect(() => byEmail.bind(db, { email: "x@example.com" } as Record<"email" | "name", unknown>)).toThrow(/\bname\b/);
    expect(() => byEmail.bind(db, { name: "x" } as Record<"email" | "name", unknown>)).toThrow(/\bemail\b/);
    const insert = compile(["deletedAt"], (p) => qb.insert(users).values({ email: "never@example.com", passwordHash: "unused", deletedAt: p.deletedAt }));
    expect(() => insert.bind(db, {} as Record<"deletedAt", unknown>)).toThrow(Error);
    expect(() => insert.bind(db, {} as Record<"deletedAt", unknown>)).toThrow(/deletedAt/);
  });
});

describe("batch", () => {
  const byEmail = compile(["email"], (p) => qb.select({ user: users, n: sql<number>`length(${users.email})`.mapWith(Number) }).from(users).where(eq(users.email, p.email)));

  it("runs compiled statements and drizzle queries in order, each read as drizzle's db.batch reads it, later reads seeing earlier writes", async () => {
    const emailA = emailOf("batch-a");
    const emailB = emailOf("batch-b");
    const [inserted, readFirst, returned, readSecond, both] = await batch(db, [
      db.insert(users).values({ email: emailA, passwordHash: "unused", isStaff: true }),
      byEmail.bind(db, { email: emailA }),
      db.insert(users).values({ email: emailB, passwordHash: "unused", deletedAt: new Date(Date.UTC(2022, 4, 5)) }).returning({ id: users.id, deletedAt: users.deletedAt, isStaff: users.isStaff }),
      byEmail.bind(db, { email: emailB }),
      db.select({ email: users.email, staff: users.isStaff }).from(users).where(inArray(users.email, [emailA, emailB])).orderBy(asc(users.id)),
    ]);
    expect(inserted.success).toBe(true);
    expect(inserted.meta.changes).toBe(1);
    expect(readFirst).toHaveLength(1);
    expect(readFirst[0]!.user).toMatchObject({ email: emailA, isStaff: true, deletedAt: null });
    expect(readFirst[0]!.user.createdAt).toBeInstanceOf(Date);
    expect(readFirst[0]!.n).toBe(emailA.length);
    expect(returned).toEqual([{ id: readSecond[0]!.user.id, deletedAt: new Date(Date.UTC(2022, 4, 5)), isStaff: false }]);
    expect(readSecond[0]!.user).toMatchObject({ email: emailB, isStaff: false });
    expect(both).toEqual([
      { email: emailA, staff: true },
      { email: emailB, staff: false },
    ]);

    // The same reads through drizzle's own batch, and through every(), give the same values.
    const [drizzleFirst, drizzleSecond] = await db.batch([
      db.select({ user: users, n: sql<number>`length(${users.email})`.mapWith(Number) }).from(users).where(eq(users.email, emailA)),
      db.select({ user: users, n: sql<number>`length(${users.email})`.mapWith(Number) }).from(users).where(eq(users.email, emailB)),
    ]);
    expect(readFirst).toEqual(drizzleFirst);
    expect(readSecond).toEqual(drizzleSecond);
    expect(readFirst).toEqual(await every(byEmail.bind(db, { email: emailA })));

    // A drizzle write without RETURNING reads back as drizzle's batch gives it: D1's result.
    const third = emailOf("batch-c");
    const [theirs] = await db.batch([db.insert(users).values({ email: third, passwordHash: "unused" })]);
    expect(Object.keys(inserted).sort()).toEqual(Object.keys(theirs).sort());
    expect(theirs.meta.changes).toBe(1);
  });

  it("gives an empty array for a compiled read that matches nothing, and runs compiled writes", async () => {
    const u = await userOf("batch-write", { firstName: "Before" });
    const rename = compile(["id", "name"], (p) => qb.update(users).set({ firstName: sql`${p.name}` }).where(eq(users.id, p.id)).returning({ id: users.id, firstName: users.firstName }));
    const touch = compile(["id"], (p) => qb.update(users).set({ lastName: "Touched" }).where(eq(users.id, p.id)));
    const [none, renamed, touched, after] = await batch(db, [
      byEmail.bind(db, { email: emailOf("nobody") }),
      rename.bind(db, { id: u.id, name: "After" }),
      touch.bind(db, { id: u.id }),
      byEmail.bind(db, { email: u.email }),
    ]);
    expect(none).toEqual([]);
    expect(renamed).toEqual([{ id: u.id, firstName: "After" }]);
    expect(touched.meta.changes).toBe(1);
    expect(after[0]!.user).toMatchObject({ id: u.id, firstName: "After", lastName: "Touched" });
  });

  it("refuses a compiled read selecting two columns of one name, which every() reads right", async () => {
    const owner = await userOf("dup-owner");
    const conversation = await conversationOf(owner.id, "dup");
    const clash = compile(["id"], (p) =>
      qb
        .select({ conversationId: conversations.id, ownerId: users.id, title: conversations.title })
        .from(conversations)
        .innerJoin(users, eq(users.id, conversations.ownerId))
        .where(eq(conversations.id, p.id)),
    );
    const alone = await every(clash.bind(db, { id: conversation.id }));
    expect(alone).toEqual([{ conversationId: conversation.id, ownerId: owner.id, title: "dup" }]);
    expect(owner.id).not.toBe(conversation.id);
    await expect(batch(db, [clash.bind(db, { id: conversation.id })])).rejects.toThrow(/two columns of one name/);

    // Aliasing one of them is enough.
    const aliased = compile(["id"], (p) =>
      qb
        .select({ conversationId: conversations.id, ownerId: sql<number>`${users.id}`.as("owner_id"), title: conversations.title })
        .from(conversations)
        .innerJoin(users, eq(users.id, conversations.ownerId))
        .where(eq(conversations.id, p.id)),
    );
    const [rows] = await batch(db, [aliased.bind(db, { id: conversation.id })]);
    expect(rows).toEqual(alone);
  });

  it("reads a compiled select whose column names look like integers the same in a batch as alone, or refuses it", async () => {
    // D1's batch rows are objects keyed by column name: JS puts integer-like keys ("1") before the others.
    const u = await userOf("intkey");
    const withConstant = compile(["id"], (p) => qb.select({ email: users.email, one: sql<number>`1` }).from(users).where(eq(users.id, p.id)));
    const alone = await every(withConstant.bind(db, { id: u.id }));
    expect(alone).toEqual([{ email: u.email, one: 1 }]);
    const inBatch = await batch(db, [withConstant.bind(db, { id: u.id })]).then(
      ([rows]) => rows,
      (error: unknown) => error,
    );
    if (!(inBatch instanceof Error)) expect(inBatch).toEqual(alone);
  });
});

describe("left joins", () => {
  it("refuses to compile a select taking a left-joined table whole", () => {
    expect(() => compile([], () => qb.select({ user: users, conversation: conversations }).from(users).leftJoin(conversations, eq(conversations.ownerId, users.id)))).toThrow(/left-joined/);
    expect(() => compile([], () => qb.select().from(users).leftJoin(conversations, eq(conversations.ownerId, users.id)))).toThrow(/left-joined/);
    // An inner join, or the left join's own base table nested whole, is fine.
    expect(() => compile([], () => qb.select({ user: users, conversation: conversations }).from(users).innerJoin(conversations, eq(conversations.ownerId, users.id)))).not.toThrow();
    expect(() => compile([], () => qb.select({ user: users, title: conversations.title }).from(users).leftJoin(conversations, eq(conversations.ownerId, users.id)))).not.toThrow();
  });

  it("accepts a left join's columns one by one, null where nothing matched, as drizzle reads them", async () => {
    const lonely = await userOf("left-lonely");
    const owner = await userOf("left-owner");
    const conversation = await conversationOf(owner.id, "owned");
    const fields = { user: users, conversationId: conversations.id, title: conversations.title, lastDeleted: conversations.lastDeleted, updatedAt: conversations.updatedAt };
    const owned = compile(["id"], (p) => qb.select(fields).from(users).leftJoin(conversations, eq(conversations.ownerId, users.id)).where(eq(users.id, p.id)));

    const none = await every(owned.bind(db, { id: lonely.id }));
    expect(none).toEqual([{ user: lonely, conversationId: null, title: null, lastDeleted: null, updatedAt: null }]);
    expect(none).toEqual(await db.select(fields).from(users).leftJoin(conversations, eq(conversations.ownerId, users.id)).where(eq(users.id, lonely.id)));

    const some = await every(owned.bind(db, { id: owner.id }));
    expect(some).toEqual([{ user: owner, conversationId: conversation.id, title: "owned", lastDeleted: false, updatedAt: conversation.updatedAt }]);
    expect(some).toEqual(await db.select(fields).from(users).leftJoin(conversations, eq(conversations.ownerId, users.id)).where(eq(users.id, owner.id)));
  });
});

describe("compiled writes", () => {
  it("an update with RETURNING gives the returned rows, mapped, and none when nothing matched", async () => {
    const u = await userOf("update");
    const remove = compile(["id", "when"], (p) =>
      qb.update(users).set({ deletedAt: sql`${sql.param(p.when, users.deletedAt)}`, isActive: false }).where(eq(users.id, p.id)).returning({ id: users.id, deletedAt: users.deletedAt, isActive: users.isActive, email: users.email }),
    );
    const when = new Date(Date.UTC(2025, 11, 31, 23, 59, 59, 999));
    const rows = await every(remove.bind(db, { id: u.id, when }));
    expect(rows).toEqual([{ id: u.id, deletedAt: when, isActive: false, email: u.email }]);
    expect(rows[0]!.deletedAt).toBeInstanceOf(Date);
    expect((await db.select({ deletedAt: users.deletedAt, isActive: users.isActive }).from(users).where(eq(users.id, u.id)))[0]).toEqual({ deletedAt: when, isActive: false });
    expect(await every(remove.bind(db, { id: -1, when }))).toEqual([]);
  });

  it("an insert with RETURNING and no fields gives whole rows as drizzle's returning() does", async () => {
    const insert = compile(["email"], (p) => qb.insert(users).values({ email: p.email, passwordHash: "unused" }).returning());
    const email = emailOf("insert-returning");
    const [row] = await every(insert.bind(db, { email }));
    expect(row).toEqual((await db.select().from(users).where(eq(users.email, email)))[0]);
    expect(row!.isActive).toBe(true);
    expect(row!.createdAt).toBeInstanceOf(Date);
  });

  it("an insert without RETURNING run alone gives D1's result, its meta.changes counting the rows written", async () => {
    const insert = compile(["email"], (p) => qb.insert(users).values({ email: p.email, passwordHash: "unused" }).onConflictDoNothing());
    const email = emailOf("insert");
    const result = await every(insert.bind(db, { email }));
    expect(result.success).toBe(true);
    expect(result.meta.changes).toBe(1);
    expect(await db.select({ email: users.email }).from(users).where(eq(users.email, email))).toEqual([{ email }]);
    const again = await every(insert.bind(db, { email }));
    expect(again.meta.changes).toBe(0);

    const pair = compile(["a", "b"], (p) => qb.insert(users).values([{ email: p.a, passwordHash: "unused" }, { email: p.b, passwordHash: "unused" }]));
    expect((await every(pair.bind(db, { a: emailOf("pair-a"), b: emailOf("pair-b") }))).meta.changes).toBe(2);
  });
});

describe("bound.sql and bound.params", () => {
  it("are drizzle's SQL and the values bound, so EXPLAIN QUERY PLAN can run them", async () => {
    const u = await userOf("explain");
    const byEmail = compile(["email"], (p) => qb.select({ id: users.id, isStaff: users.isStaff }).from(users).where(eq(users.email, p.email)));
    const bound = byEmail.bind(db, { email: u.email });
    const drizzled = db.select({ id: users.id, isStaff: users.isStaff }).from(users).where(eq(users.email, u.email)).toSQL();
    expect(bound.sql).toBe(drizzled.sql);
    expect(bound.params).toEqual([u.email]);
    expect(bound.params).toEqual(drizzled.params);

    // The statement is exactly this SQL with these values.
    expect((await env.DB.prepare(bound.sql).bind(...bound.params).raw())).toEqual([[u.id, 0]]);
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${bound.sql}`)
      .bind(...bound.params)
      .all<{ detail: string }>();
    expect(plan.results.map((r) => r.detail).join("\n")).toMatch(/users_email_unique/);

    // Constants stay as drizzle encoded them, placeholders take their values, in SQL order.
    const mixed = compile(["name"], (p) => qb.select({ id: users.id }).from(users).where(sql`${eq(users.isStaff, true)} AND ${eq(users.firstName, p.name)} AND ${gt(users.createdAt, new Date(5))}`));
    expect(mixed.bind(db, { name: "Ann" }).params).toEqual([1, "Ann", 5]);
    expect(mixed.bind(db, { name: "Bo" }).params).toEqual([1, "Bo", 5]);
  });
});
