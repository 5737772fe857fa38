// The CRUD engine: every route of every model runs through these operations, driven by the model
// metadata of `../policies/schema.json`. Reads are filtered by the `read` policy inside the
// query; writes run in a transaction that checks `create`/`update`/`delete` and `@writable` in
// the database and rolls back when a check fails.

import type { z } from "zod";
import {
  canRead,
  deniedOutright,
  fieldReadable,
  isAll,
  isNone,
  model,
  policyWhere,
  toWhere,
  writableRules,
} from "../policies/index.js";
import type { Auth, Expr, FieldSpec, ModelSpec, Operand, Where } from "../policies/index.js";
import type { FieldError } from "./errors.js";
import { HttpError } from "./errors.js";
import { fromWire, parseParam, toWire } from "./wire.js";

export type Row = Record<string, unknown>;
export type Query = Record<string, string | string[] | undefined>;

/** The part of a Prisma model delegate the engine uses. */
export interface Delegate {
  findMany(args: object): Promise<Row[]>;
  findFirst(args: object): Promise<Row | null>;
  count(args: object): Promise<number>;
  create(args: object): Promise<Row>;
  update(args: object): Promise<Row>;
  delete(args: object): Promise<Row>;
}

interface Client {
  $transaction<T>(fn: (tx: unknown) => Promise<T>): Promise<T>;
}

/** A model with its input schemas, as registry and controllers hand it to the engine. */
export interface Binding {
  spec: ModelSpec;
  create?: z.ZodType;
  update?: z.ZodType;
}

export interface Limits {
  defaultPageSize: number;
  maxPageSize: number;
  /** `contains` with `mode: "insensitive"` (PostgreSQL, CockroachDB). */
  insensitiveSearch: boolean;
}

export interface Page {
  data: Row[];
  meta: { total: number; nextCursor: string | null };
}

function delegate(db: unknown, m: ModelSpec): Delegate {
  const d = (db as Record<string, Delegate | undefined>)[m.delegate];
  if (d === undefined) throw new Error(`the Prisma client has no model ${m.delegate}`);
  return d;
}

function last(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[v.length - 1] : v;
}

function bad(path: string, message: string): HttpError {
  return new HttpError(400, "The request is not valid.", [{ path, message }]);
}

function field(m: ModelSpec, name: string): FieldSpec | undefined {
  return m.fields.find((f) => f.name === name);
}

const OPS: Record<string, string[]> = {
  String: ["equals", "not", "in", "lt", "lte", "gt", "gte", "contains", "startsWith", "endsWith"],
  Boolean: ["equals", "not"],
  enum: ["equals", "not", "in"],
};
const ORDERED = ["equals", "not", "in", "lt", "lte", "gt", "gte"];

/** `filter[field][op]=value` parameters as a Prisma `where`. */
export function parseFilter(m: ModelSpec, query: Query): Where[] {
  const byField = new Map<string, Record<string, unknown>>();
  for (const [key, raw] of Object.entries(query)) {
    if (!key.startsWith("filter")) continue;
    const match = /^filter\[([^\]]+)\]\[([^\]]+)\]$/.exec(key);
    const value = last(raw);
    if (match === null || value === undefined) throw bad(key, "expected filter[field][op]=value");
    const [, name = "", op = ""] = match;
    const f = field(m, name);
    if (f === undefined || !f.filter) throw bad(key, `unknown filter field ${name}`);
    const ops = OPS[f.type] ?? ORDERED;
    if (!ops.includes(op))
      throw bad(key, `unknown operator ${op}; expected one of ${ops.join(", ")}`);
    let v: unknown;
    try {
      if (op === "in") v = value === "" ? [] : value.split(",").map((x) => parseParam(f, x));
      else if (value === "null" && f.nullable && (op === "equals" || op === "not")) v = null;
      else v = parseParam(f, value);
    } catch (e) {
      throw bad(key, (e as Error).message);
    }
    const cond = byField.get(name) ?? {};
    cond[op] = v;
    byField.set(name, cond);
  }
  return [...byField].map(([name, cond]) => ({ [name]: cond }));
}

function idOrder(m: ModelSpec): Record<string, "asc">[] {
  return m.id.map((f) => ({ [f]: "asc" as const }));
}

function parseOrder(m: ModelSpec, raw: string | undefined): Record<string, "asc" | "desc">[] {
  const order: Record<string, "asc" | "desc">[] = [];
  const seen = new Set<string>();
  for (const part of (raw ?? "").split(",").filter((p) => p !== "")) {
    const desc = part.startsWith("-");
    const name = desc ? part.slice(1) : part;
    const f = field(m, name);
    if (f === undefined || !f.filter) throw bad("orderBy", `cannot sort by ${name}`);
    if (seen.has(name)) continue;
    seen.add(name);
    order.push({ [name]: desc ? "desc" : "asc" });
  }
  for (const id of m.id) if (!seen.has(id)) order.push({ [id]: "asc" });
  return order;
}

function parseInt(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  // `take=` is not a number: the OpenAPI document says integer, so an empty value is a 400.
  if (!/^\d+$/.test(raw)) throw bad(name, "expected a non-negative integer");
  const n = Number(raw);
  if (n > max) throw bad(name, `at most ${max}`);
  return n;
}

function encodeCursor(m: ModelSpec, row: Row): string {
  const values = m.id.map((f) => toWire(field(m, f) as FieldSpec, row[f]));
  return Buffer.from(JSON.stringify(values)).toString("base64url");
}

function decodeCursor(m: ModelSpec, raw: string): Where {
  try {
    const values: unknown = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
    if (!Array.isArray(values) || values.length !== m.id.length) throw new Error();
    return uniqueWhere(
      m,
      m.id.map((f, i) => parseParam(field(m, f) as FieldSpec, String(values[i]))),
    );
  } catch {
    throw bad("cursor", "not a cursor this API returned");
  }
}

/** The id path segments of a row as typed values. */
export function parseId(m: ModelSpec, segments: string[]): unknown[] {
  return m.id.map((name, i) => {
    try {
      return parseParam(field(m, name) as FieldSpec, segments[i] ?? "");
    } catch (e) {
      throw bad(name, (e as Error).message);
    }
  });
}

function idWhere(m: ModelSpec, id: unknown[]): Where {
  return Object.fromEntries(m.id.map((f, i) => [f, id[i]]));
}

function uniqueWhere(m: ModelSpec, id: unknown[]): Where {
  return m.idKey === null ? idWhere(m, id) : { [m.idKey]: idWhere(m, id) };
}

function rowId(m: ModelSpec, row: Row): unknown[] {
  return m.id.map((f) => row[f]);
}

function and(...parts: Where[]): Where {
  const rest = parts.filter((p) => !isAll(p));
  return rest.length === 0 ? {} : rest.length === 1 ? (rest[0] as Where) : { AND: rest };
}

function parseInclude(m: ModelSpec, raw: string | undefined): string[] {
  const names = (raw ?? "").split(",").filter((n) => n !== "");
  for (const n of names) {
    if (!m.relations.some((r) => r.name === n)) throw bad("include", `unknown relation ${n}`);
  }
  return [...new Set(names)];
}

/** Prisma `include` for the requested relations; to-many relations are filtered by `read`. */
function includeArgs(
  m: ModelSpec,
  names: string[],
  auth: Auth,
): Record<string, unknown> | undefined {
  if (names.length === 0) return undefined;
  const out: Record<string, unknown> = {};
  for (const n of names) {
    const rel = m.relations.find((r) => r.name === n);
    if (rel === undefined) continue;
    const target = model(rel.model);
    out[n] = rel.list
      ? { where: policyWhere(target, "read", auth), orderBy: idOrder(target) }
      : true;
  }
  return out;
}

/** Removes included to-one rows the principal may not read (checked in the database). */
async function dropUnreadable(
  db: unknown,
  m: ModelSpec,
  rows: Row[],
  names: string[],
  auth: Auth,
): Promise<void> {
  for (const n of names) {
    const rel = m.relations.find((r) => r.name === n);
    if (rel === undefined || rel.list) continue;
    const target = model(rel.model);
    const where = policyWhere(target, "read", auth);
    if (isAll(where)) continue;
    const related = rows
      .map((r) => r[n])
      .filter((v): v is Row => typeof v === "object" && v !== null);
    let readable = new Set<string>();
    if (!isNone(where) && related.length > 0 && target.id.length > 0) {
      const found = await delegate(db, target).findMany({
        where: and({ OR: related.map((r) => idWhere(target, rowId(target, r))) }, where),
        select: Object.fromEntries(target.id.map((f) => [f, true])),
      });
      readable = new Set(found.map((r) => JSON.stringify(rowId(target, r), jsonSafe)));
    }
    for (const row of rows) {
      const v = row[n];
      if (
        typeof v === "object" &&
        v !== null &&
        !readable.has(JSON.stringify(rowId(target, v as Row), jsonSafe))
      ) {
        Reflect.deleteProperty(row, n);
      }
    }
  }
}

function jsonSafe(_key: string, v: unknown): unknown {
  return typeof v === "bigint" ? v.toString() : v;
}

/** A row as the API returns it: only output fields, `@readable` applied, includes likewise. */
export function present(m: ModelSpec, row: Row, auth: Auth): Row {
  const out: Row = {};
  for (const f of m.fields) {
    if (!f.output || !fieldReadable(f, row, auth)) continue;
    out[f.name] = toWire(f, row[f.name]);
  }
  for (const rel of m.relations) {
    const v = row[rel.name];
    if (v === undefined) continue;
    const target = model(rel.model);
    if (Array.isArray(v)) out[rel.name] = v.map((x: Row) => present(target, x, auth));
    else out[rel.name] = v === null ? null : present(target, v as Row, auth);
  }
  return out;
}

function parseBody(schema: z.ZodType | undefined, body: unknown): Row {
  if (schema === undefined) throw new HttpError(405, "This model cannot be written.");
  if (body === undefined || body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new HttpError(400, "The request body must be a JSON object.");
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const errors: FieldError[] = parsed.error.issues.map((i) => ({
      path: i.path.map(String).join("."),
      message: i.message,
    }));
    throw new HttpError(400, "The request body is not valid.", errors);
  }
  return parsed.data as Row;
}

function toData(m: ModelSpec, input: Row): Row {
  const data: Row = {};
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue;
    const f = field(m, k);
    data[k] = f === undefined ? v : fromWire(f, v);
  }
  return data;
}

/** Inside a transaction: does the row with this id match `where`? */
async function holds(tx: unknown, m: ModelSpec, id: unknown[], where: Where): Promise<boolean> {
  if (isAll(where)) return true;
  return exists(tx, m, id, where);
}

/** Does a row with this id exist and match `where`? */
async function exists(tx: unknown, m: ModelSpec, id: unknown[], where: Where): Promise<boolean> {
  if (isNone(where)) return false;
  const found = await delegate(tx, m).findFirst({
    where: and(idWhere(m, id), where),
    select: Object.fromEntries(m.id.map((f) => [f, true])),
  });
  return found !== null;
}

const FORBIDDEN = "The policy of this model does not allow this.";

/** Thrown inside a transaction to roll it back with a 403. */
function forbidden(what: string): HttpError {
  return new HttpError(403, what);
}

/** A committed write, as the realtime gateway receives it (rows as JSON, see `snapshotOf`). */
export interface ChangeEvent {
  model: string;
  event: "created" | "updated" | "deleted";
  before: Row | null;
  after: Row | null;
}

type Include = Record<string, true | { include: Include }>;

function addPath(into: Include, path: string[]): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (rest.length === 0) {
    if (into[head] === undefined) into[head] = true;
    return;
  }
  const cur = into[head];
  const next: Include = typeof cur === "object" ? cur.include : {};
  into[head] = { include: next };
  addPath(next, rest);
}

function collect(e: Expr, prefix: string[], into: Include): void {
  const operand = (o: Operand) => {
    if (o.kind === "field" && o.hops.length > 0)
      addPath(into, [...prefix, ...o.hops.map((h) => h.field)]);
  };
  switch (e.kind) {
    case "truthy":
      operand(e.operand);
      break;
    case "compare":
      operand(e.left);
      operand(e.right);
      break;
    case "not":
      collect(e.expr, prefix, into);
      break;
    case "and":
    case "or":
      for (const x of e.exprs) collect(x, prefix, into);
      break;
    case "quant": {
      const path = [...prefix, ...e.hops.map((h) => h.field), e.relation];
      addPath(into, path);
      collect(e.body, path, into);
      break;
    }
    case "bool":
      break;
  }
}

/** The relations the `read` rule and `@readable` rules of `m` look at, as a Prisma include. */
export function policyInclude(m: ModelSpec): Include | null {
  const into: Include = {};
  if (m.policy?.read !== undefined) collect(m.policy.read, [], into);
  for (const f of m.fields) if (f.readable !== undefined) collect(f.readable, [], into);
  return Object.keys(into).length === 0 ? null : into;
}

/** Every field of a row (hidden ones too: rules may read them) and its loaded relations, as JSON. */
export function snapshotOf(m: ModelSpec, row: Row): Row {
  const out: Row = {};
  for (const f of m.fields) if (row[f.name] !== undefined) out[f.name] = toWire(f, row[f.name]);
  for (const rel of m.relations) {
    const v = row[rel.name];
    if (v === undefined) continue;
    const target = model(rel.model);
    if (Array.isArray(v)) out[rel.name] = v.map((x: Row) => snapshotOf(target, x));
    else out[rel.name] = v === null ? null : snapshotOf(target, v as Row);
  }
  return out;
}

export class Engine {
  /** Called after a write commits, for models with `@@realtime` (see `../realtime/`). */
  onChange: ((e: ChangeEvent) => void) | null = null;

  constructor(
    private readonly db: unknown,
    private readonly limits: Limits,
  ) {}

  private emits(m: ModelSpec, event: ChangeEvent["event"]): boolean {
    return this.onChange !== null && (m.realtime?.includes(event) ?? false);
  }

  /** The row as events carry it: every field and what the read rules need, as JSON. */
  private async snapshot(db: unknown, m: ModelSpec, id: unknown[]): Promise<Row | null> {
    const include = policyInclude(m);
    const row = await delegate(db, m).findFirst({
      where: idWhere(m, id),
      ...(include !== null ? { include } : {}),
    });
    return row === null ? null : snapshotOf(m, row);
  }

  private get client(): Client {
    return this.db as Client;
  }

  async list(b: Binding, query: Query, auth: Auth): Promise<Page> {
    const m = b.spec;
    const take = parseInt(
      "take",
      last(query.take),
      this.limits.defaultPageSize,
      this.limits.maxPageSize,
    );
    const skip = parseInt("skip", last(query.skip), 0, Number.MAX_SAFE_INTEGER);
    const cursorRaw = last(query.cursor);
    const cursor =
      cursorRaw !== undefined && cursorRaw !== "" ? decodeCursor(m, cursorRaw) : undefined;
    const include = parseInclude(m, last(query.include));
    const where = and(policyWhere(m, "read", auth), ...parseFilter(m, query));
    const orderBy = parseOrder(m, last(query.orderBy));
    if (isNone(where)) return { data: [], meta: { total: 0, nextCursor: null } };
    const d = delegate(this.db, m);
    const [rows, total] = await Promise.all([
      d.findMany({
        where,
        orderBy,
        take: take + 1,
        skip: cursor !== undefined ? skip + 1 : skip,
        ...(cursor !== undefined ? { cursor } : {}),
        ...(include.length > 0 ? { include: includeArgs(m, include, auth) } : {}),
      }),
      d.count({ where }),
    ]);
    const more = rows.length > take;
    const page = more ? rows.slice(0, take) : rows;
    await dropUnreadable(this.db, m, page, include, auth);
    const lastRow = page[page.length - 1];
    const nextCursor =
      more && lastRow !== undefined && m.id.length > 0 ? encodeCursor(m, lastRow) : null;
    return { data: page.map((r) => present(m, r, auth)), meta: { total, nextCursor } };
  }

  async count(b: Binding, query: Query, auth: Auth): Promise<{ count: number }> {
    const where = and(policyWhere(b.spec, "read", auth), ...parseFilter(b.spec, query));
    if (isNone(where)) return { count: 0 };
    return { count: await delegate(this.db, b.spec).count({ where }) };
  }

  async search(b: Binding, query: Query, auth: Auth): Promise<Page> {
    const m = b.spec;
    const q = last(query.q) ?? "";
    if (q.trim() === "") throw bad("q", "expected a search text");
    const take = parseInt(
      "take",
      last(query.take),
      this.limits.defaultPageSize,
      this.limits.maxPageSize,
    );
    const mode = this.limits.insensitiveSearch ? { mode: "insensitive" } : {};
    const match: Where = { OR: (m.search ?? []).map((f) => ({ [f]: { contains: q, ...mode } })) };
    const where = and(policyWhere(m, "read", auth), match);
    if (isNone(where)) return { data: [], meta: { total: 0, nextCursor: null } };
    const d = delegate(this.db, m);
    const [rows, total] = await Promise.all([
      d.findMany({ where, orderBy: idOrder(m), take }),
      d.count({ where }),
    ]);
    return { data: rows.map((r) => present(m, r, auth)), meta: { total, nextCursor: null } };
  }

  async get(b: Binding, id: unknown[], query: Query, auth: Auth): Promise<Row> {
    const m = b.spec;
    const include = parseInclude(m, last(query.include));
    const where = policyWhere(m, "read", auth);
    if (isNone(where)) throw new HttpError(404, "The row does not exist.");
    const row = await delegate(this.db, m).findFirst({
      where: and(idWhere(m, id), where),
      ...(include.length > 0 ? { include: includeArgs(m, include, auth) } : {}),
    });
    if (row === null) throw new HttpError(404, "The row does not exist.");
    await dropUnreadable(this.db, m, [row], include, auth);
    return present(m, row, auth);
  }

  async create(b: Binding, body: unknown, auth: Auth): Promise<Row> {
    const m = b.spec;
    const input = parseBody(b.create, body);
    if (deniedOutright(m, "create", auth)) throw forbidden(FORBIDDEN);
    const rules = writableRules(m, Object.keys(input));
    const row = await this.client.$transaction(async (tx) => {
      const created = await delegate(tx, m).create({ data: toData(m, input) });
      const id = rowId(m, created);
      if (!(await holds(tx, m, id, policyWhere(m, "create", auth)))) throw forbidden(FORBIDDEN);
      for (const f of rules) {
        if (
          !(await holds(tx, m, id, toWhere(f.writable ?? { kind: "bool", value: false }, auth)))
        ) {
          throw forbidden(`You may not set ${f.name}.`);
        }
      }
      return created;
    });
    if (this.emits(m, "created")) {
      const after = await this.snapshot(this.db, m, rowId(m, row));
      this.onChange?.({ model: m.name, event: "created", before: null, after });
    }
    return present(m, row, auth);
  }

  async update(b: Binding, id: unknown[], body: unknown, auth: Auth): Promise<Row> {
    const m = b.spec;
    const input = parseBody(b.update, body);
    const rules = writableRules(m, Object.keys(input));
    let before: Row | null = null;
    const row = await this.client.$transaction(async (tx) => {
      if (!(await exists(tx, m, id, policyWhere(m, "read", auth))))
        throw new HttpError(404, "The row does not exist.");
      const rule = policyWhere(m, "update", auth);
      if (!(await holds(tx, m, id, rule))) throw forbidden(FORBIDDEN);
      for (const f of rules) {
        if (
          !(await holds(tx, m, id, toWhere(f.writable ?? { kind: "bool", value: false }, auth)))
        ) {
          throw forbidden(`You may not set ${f.name}.`);
        }
      }
      before = this.emits(m, "updated") ? await this.snapshot(tx, m, id) : null;
      const updated = await delegate(tx, m).update({
        where: uniqueWhere(m, id),
        data: toData(m, input),
      });
      if (!(await holds(tx, m, rowId(m, updated), rule))) throw forbidden(FORBIDDEN);
      return updated;
    });
    if (this.emits(m, "updated")) {
      const after = await this.snapshot(this.db, m, rowId(m, row));
      this.onChange?.({ model: m.name, event: "updated", before, after });
    }
    return present(m, row, auth);
  }

  async delete(b: Binding, id: unknown[], auth: Auth): Promise<void> {
    const m = b.spec;
    const before = await this.client.$transaction(async (tx) => {
      if (!(await exists(tx, m, id, policyWhere(m, "read", auth))))
        throw new HttpError(404, "The row does not exist.");
      if (!(await holds(tx, m, id, policyWhere(m, "delete", auth)))) throw forbidden(FORBIDDEN);
      const snapshot = this.emits(m, "deleted") ? await this.snapshot(tx, m, id) : null;
      await delegate(tx, m).delete({ where: uniqueWhere(m, id) });
      return snapshot;
    });
    if (before !== null) this.onChange?.({ model: m.name, event: "deleted", before, after: null });
  }

  /** In memory: may this principal read this row (for events of rows already loaded)? */
  static canRead(m: ModelSpec, row: Row, auth: Auth): boolean {
    return canRead(m, row, auth);
  }
}
