import { Column, getTableColumns, type AnyColumn, type GetColumnData, getTableName, is, Param, Placeholder, placeholder, sql, SQL, Table } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { drizzle } from "drizzle-orm/d1";
import type { Database } from "./client";

/**
 * Hot-path statements built once per isolate. Drizzle builds a query's SQL and walks its fields on every
 * call, which costs more CPU than D1 spends running a small one (issue 11's profiles: `/users/me` went
 * from 2.5 to 1.6 ms of workerd CPU when its one query was compiled). A compiled statement keeps drizzle's
 * SQL and row shape; a request only binds its values to a statement of its own database or session and
 * maps the rows back.
 */
export type Compiled<Result, Name extends string> = {
  /** The statement with `values` bound, to run with `every` or `first`, or in a `batch`. */
  bind(db: Database, values: Record<Name, unknown>): Bound<Result>;
};

/** A bound statement (its SQL and values too, for EXPLAIN): run alone, or read from a batch's result. */
export type Bound<Result> = { statement: D1PreparedStatement; sql: string; params: unknown[]; run(): Promise<Result>; fromBatch(result: D1Result): Result };

/** A drizzle select, or a write with or without RETURNING: what it reads as is its `_.result`. */
type Query = { toSQL(): { sql: string; params: unknown[] }; _: { result: unknown } };
type Shape = { path: string[]; field: unknown };

/**
 * Builds the statements `compile` keeps: drizzle over no database (nothing built with it runs by itself;
 * awaiting one fails at once).
 */
export const qb = drizzle(null as unknown as D1Database);

/** The values of a JSON array bound as one parameter (ids, say: D1 binds at most 100), as a subquery. */
export const jsonValues = (array: unknown) => sql`(SELECT value FROM json_each(${array}))`;

/**
 * A column under another name, with its own mapping: a batch reads rows by column name, so two tables'
 * columns of one name (`id`, `revoked_at`) in one select need one of them renamed.
 */
export const renamed = <C extends AnyColumn>(column: C, name: string) => sql<GetColumnData<C>>`${column}`.mapWith(column).as(name);

/** Compiles the statement `build` makes with `qb` and a placeholder per name. */
export function compile<Name extends string, Q extends Query>(names: readonly Name[], build: (p: Record<Name, Placeholder<Name>>) => Q): Compiled<Q["_"]["result"], Name> {
  return compileQuery(build(Object.fromEntries(names.map((n) => [n, placeholder(n)])) as Record<Name, Placeholder<Name>>));
}

function compileQuery<Q extends Query, Name extends string>(query: Q): Compiled<Q["_"]["result"], Name> {
  type Result = Q["_"]["result"];
  const { sql: text, params } = query.toSQL();
  const values = params.map(valueOf);
  const { config, joinsNotNullableMap } = query as unknown as { config: { fields?: Record<string, unknown>; returning?: Shape[] }; joinsNotNullableMap?: Record<string, boolean> };
  const shapes = config.fields ? shapesOf(config.fields) : config.returning;
  const nullable = Object.entries(joinsNotNullableMap ?? {}).filter(([, notNull]) => !notNull);
  // Drizzle reads a left-joined table selected whole as null when every cell is: not done here.
  if (shapes?.some(({ path, field }) => path.length > 1 && is(field, Column) && nullable.some(([name]) => name === getTableName(field.table)))) {
    throw new Error("compile() cannot select a left-joined table whole: select its columns one by one.");
  }
  const decoders = shapes?.map(({ field }) => decoderOf(field));
  const toRow = (cells: unknown[]) => {
    const row: Record<string, unknown> = {};
    shapes!.forEach(({ path }, i) => {
      let node = row;
      for (let j = 0; j < path.length - 1; j++) node = (node[path[j]!] ??= {}) as Record<string, unknown>;
      const cell = cells[i];
      node[path.at(-1)!] = cell === null || cell === undefined ? null : decoders![i]!(cell);
    });
    return row;
  };
  return {
    bind: (db, given) => {
      const bound = values.map((value) => value(given));
      const statement = db.$client.prepare(text).bind(...bound);
      if (!shapes) return { statement, sql: text, params: bound, run: () => statement.run() as Promise<Result>, fromBatch: (result) => result as Result };
      return {
        statement,
        sql: text,
        params: bound,
        run: async () => (await statement.raw()).map(toRow) as Result,
        fromBatch: ({ results }) => (results[0] === undefined ? [] : (checkNames(results[0], shapes.length, text), results.map((row) => toRow(Object.values(row as object))))) as Result,
      };
    },
  };
}

/** Where a bound value comes from: a placeholder's value (through its column's encoder), or a constant. */
function valueOf(param: unknown): (given: Record<string, unknown>) => unknown {
  const named = (name: string, encode: (v: unknown) => unknown) => (given: Record<string, unknown>) => {
    if (!(name in given)) throw new Error(`No value for the placeholder ${name}.`);
    return encode(given[name]);
  };
  if (is(param, Placeholder)) return named(param.name, (v) => v);
  if (is(param, Param) && is(param.value, Placeholder)) {
    const { encoder } = param;
    return named(param.value.name, (v) => (v === null ? null : encoder.mapToDriverValue(v)));
  }
  return () => param;
}

/** Each selected column or expression with its path in the row (`user: users` nests the table's columns), in SQL order. */
function shapesOf(fields: Record<string, unknown>, prefix: string[] = []): Shape[] {
  return Object.entries(fields).flatMap(([name, field]) => {
    const path = [...prefix, name];
    if (is(field, Column) || is(field, SQL) || is(field, SQL.Aliased)) return [{ path, field }];
    return shapesOf(is(field, Table) ? getTableColumns(field) : (field as Record<string, unknown>), path);
  });
}

type Decoder = { mapFromDriverValue(cell: unknown): unknown };

/** How a cell becomes a value: its column's mapping, or the one an expression's `mapWith` gave it. */
function decoderOf(field: unknown): (cell: unknown) => unknown {
  // An expression's decoder is drizzle's own (internal) property: the one its mapResultRow reads.
  const decoder: Decoder = is(field, Column) ? field : is(field, SQL) ? (field as unknown as { decoder: Decoder }).decoder : (field as { sql: { decoder: Decoder } }).sql.decoder;
  return (cell) => decoder.mapFromDriverValue(cell);
}

/** What a compiled statement reads (its rows, or a write's result). */
export const every = <Result>(bound: Bound<Result>): Promise<Result> => bound.run();

/** The first row of a compiled read, or undefined. */
export const first = async <R>(bound: Bound<R[]>): Promise<R | undefined> => (await bound.run())[0];

type Drizzled = BatchItem<"sqlite">;
/** What `batch` takes: compiled statements and drizzle queries. */
export type Item = Bound<unknown> | Drizzled;
export type Results<T extends readonly Item[]> = { -readonly [K in keyof T]: T[K] extends Bound<infer R> ? R : T[K] extends Drizzled ? T[K]["_"]["result"] : never };
/** The parts of drizzle's prepared query its own batch uses (internal in its types). */
type DrizzlePrepared = { stmt: D1PreparedStatement; getQuery(): { params: unknown[] }; mapResult(result: D1Result, isFromBatch: true): unknown };

/**
 * Statements in one D1 batch, one round trip: each one's results, in order. Compiled reads, and drizzle
 * queries (writes, mostly) read back as drizzle's own batch reads them.
 */
export async function batch<const T extends readonly Item[]>(db: Database, items: T): Promise<Results<T>> {
  const parts = items.map((item) => {
    if ("statement" in item) return { statement: item.statement, read: item.fromBatch };
    const prepared = (item as unknown as { _prepare(): DrizzlePrepared })._prepare();
    return { statement: prepared.stmt.bind(...prepared.getQuery().params), read: (r: D1Result) => prepared.mapResult(r, true) };
  });
  const results = await db.$client.batch(parts.map((p) => p.statement));
  return parts.map((part, i) => part.read(results[i]!)) as Results<T>;
}

/**
 * A batch's rows come as objects keyed by column name, and their cells are read in key order: two columns
 * of one name fold into one, and a name that is a number goes first, either of which would shift the cells.
 * Refused rather than misread (checked on a result's first row: every row has the same names).
 */
function checkNames(row: unknown, width: number, text: string): void {
  const names = Object.keys(row as object);
  if (names.length !== width || names.some((n) => /^\d+$/.test(n))) {
    throw new Error(`A compiled read in a batch selects two columns of one name, or one named by a number: alias it. (${text})`);
  }
}
