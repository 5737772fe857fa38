// The CRUD engine: every route of every model runs through these operations, driven by the model
// metadata of `../policies/schema.json`. Reads are filtered by the `read` policy inside the
// query; writes run in a transaction that checks `create`/`update`/`delete` and `@writable` in
// the database and rolls back when a check fails.

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { z } from "zod";
import {
  deniedOutright,
  fieldReadable,
  filterOperators,
  isAll,
  isNone,
  model,
  NONE,
  policyWhere,
  readableAfterUpdate,
  toWhere,
  writableRules,
} from "../policies/index.js";
import type {
  Auth,
  Expr,
  FieldSpec,
  ModelSpec,
  Operand,
  RelationSpec,
  Where,
} from "../policies/index.js";
import type { FieldError } from "./errors.js";
import { HttpError } from "./errors.js";
import { caller, Plugins } from "./plugin.js";
import type { FullText } from "./plugin.js";
import { Unserializable, fromWire, parseParam, toWire } from "./wire.js";

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
  /**
   * The input schemas, loaded on the first write (a server of many models starts without
   * building them all); none: the model cannot be written (a view).
   */
  inputs?: () => Promise<Inputs>;
}

export interface Inputs {
  create: z.ZodType;
  update: z.ZodType;
}

/** Loads the input schemas of `src/validators/<stem>.input.ts` (its `inputs`) when first asked. */
export function lazyInputs(stem: string): () => Promise<Inputs> {
  return async () => {
    const path = `../validators/${stem}.input`;
    // Built JavaScript has `.js`; run from the sources (vitest), only `.ts` may resolve. A `.js`
    // that exists and fails to load is a real error, and is not hidden behind the `.ts` one.
    const module = (await import(`${path}.js`).catch((error: unknown) => {
      if (existsSync(fileURLToPath(new URL(`${path}.js`, import.meta.url)))) throw error;
      return import(`${path}.ts`);
    })) as { inputs: Inputs };
    return module.inputs;
  };
}

export interface Limits {
  defaultPageSize: number;
  maxPageSize: number;
  /** `contains` with `mode: "insensitive"` (PostgreSQL, CockroachDB). */
  insensitiveSearch: boolean;
}

/** Where the engine reports rows it leaves out of a response. */
export interface Warn {
  (info: Record<string, unknown>, message: string): void;
}

export interface Page {
  data: Row[];
  meta: { total: number; nextCursor: string | null };
}

/** What the caller may do with a field: see it in responses, set it in an input. */
export interface FieldPermission {
  read: boolean;
  write: boolean;
}

/**
 * What the policies let the caller do, for the model (`GET /api/{models}/permissions`: `false`
 * means "for no row", `true` "for some rows, the row decides"; `write` is about create inputs)
 * or for one row (`GET /api/{models}/{id}/permissions`: every answer is for that row; `write`
 * is about update inputs). Advisory: every write is still checked when it is made.
 */
export interface Permissions {
  read: boolean;
  create: boolean;
  update: boolean;
  delete: boolean;
  fields: Record<string, FieldPermission>;
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
    const ops = filterOperators(f);
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
  // A view without a unique criterion has no id to keep pages stable, and Prisma refuses to
  // query it without an order: every sortable field then orders it.
  if (m.id.length === 0) {
    for (const f of m.fields) if (f.filter && !seen.has(f.name)) order.push({ [f.name]: "asc" });
  }
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

/** The id values a cursor names (not yet checked against the read policy). */
function decodeCursor(m: ModelSpec, raw: string): unknown[] {
  try {
    const values: unknown = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
    if (!Array.isArray(values) || values.length !== m.id.length) throw new Error();
    return m.id.map((f, i) => parseParam(field(m, f) as FieldSpec, String(values[i])));
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

/**
 * The conjunction of Prisma `where`s. A part that matches nothing makes the whole match
 * nothing: Prisma 7 drops an `OR: []` inside an `AND` list (it matches every row there), so
 * `NONE` must never be nested in one.
 */
function and(...parts: Where[]): Where {
  if (parts.some(isNone)) return NONE;
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

function idKey(m: ModelSpec, row: Row): string {
  return JSON.stringify(rowId(m, row), jsonSafe);
}

/**
 * The fields of a row as the API returns them: output fields only, each `@readable` rule
 * evaluated on `rules` (the row with whatever the rules look at); relations are not included.
 * Throws `Unserializable` when a value cannot be written in the wire format.
 */
export function presentRow(m: ModelSpec, row: Row, rules: Row, auth: Auth): Row {
  const out: Row = {};
  for (const f of m.fields) {
    if (!f.output || !fieldReadable(f, rules, auth)) continue;
    out[f.name] = toWire(f, row[f.name]);
  }
  return out;
}

/**
 * Rows as the API returns them (`null` for a row that cannot be written in the wire format).
 * `@readable` rules see the data as stored: the relations they look at are loaded whole, not
 * the part of them the caller may include; included rows get the same treatment.
 */
async function presentAll(
  db: unknown,
  m: ModelSpec,
  rows: Row[],
  auth: Auth,
): Promise<(Row | null)[]> {
  const stored = new Map<string, Row>();
  const include = readableInclude(m);
  if (include !== null && rows.length > 0 && m.id.length > 0) {
    const found = await delegate(db, m).findMany({
      where: { OR: rows.map((r) => idWhere(m, rowId(m, r))) },
      include,
    });
    for (const r of found) stored.set(idKey(m, r), r);
  }
  // Included rows, presented with their own model's rules (to-many lists were already
  // filtered by the target's read policy, to-one rows by `dropUnreadable`).
  const nested = new Map<Row, Row | null>();
  for (const rel of m.relations) {
    const children = rows.flatMap((r) => {
      const v = r[rel.name];
      return Array.isArray(v)
        ? (v as Row[])
        : typeof v === "object" && v !== null
          ? [v as Row]
          : [];
    });
    if (children.length === 0) continue;
    const shown = await presentAll(db, model(rel.model), children, auth);
    children.forEach((c, i) => nested.set(c, shown[i] ?? null));
  }
  return rows.map((row) => {
    try {
      const out = presentRow(m, row, stored.get(idKey(m, row)) ?? row, auth);
      for (const rel of m.relations) attachNested(out, rel, row[rel.name], nested);
      return out;
    } catch (e) {
      if (e instanceof Unserializable) return null;
      throw e;
    }
  });
}

function attachNested(out: Row, rel: RelationSpec, v: unknown, nested: Map<Row, Row | null>): void {
  if (v === undefined) return;
  if (Array.isArray(v)) {
    out[rel.name] = (v as Row[]).map((x) => nested.get(x) ?? null).filter((x) => x !== null);
  } else if (v === null) {
    out[rel.name] = null;
  } else {
    const shown = nested.get(v as Row) ?? null;
    if (shown !== null) out[rel.name] = shown;
  }
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

/** Inside a transaction: every `@writable` rule of the fields the input sets holds on the row. */
async function checkWritable(
  tx: unknown,
  m: ModelSpec,
  id: unknown[],
  rules: FieldSpec[],
  auth: Auth,
): Promise<void> {
  for (const f of rules) {
    if (f.writable === undefined || !(await holds(tx, m, id, toWhere(f.writable, auth)))) {
      throw forbidden(`You may not set ${f.name}.`);
    }
  }
}

const MISSING_REFERENCE =
  "The change conflicts with a related row (a reference is missing or still in use).";

/**
 * Inside a transaction: every foreign key the input sets names a row the caller can read. One
 * it cannot read is refused exactly like one that names no row (409, a field error on the key),
 * so the answer does not reveal that a hidden row exists.
 */
async function checkReferences(
  tx: unknown,
  m: ModelSpec,
  input: Row,
  id: unknown[] | null,
  auth: Auth,
): Promise<void> {
  let current: Row | null | undefined;
  for (const rel of m.relations) {
    const fields = rel.fields ?? [];
    if (!fields.some((f) => input[f] !== undefined)) continue;
    if (id !== null && current === undefined && fields.some((f) => input[f] === undefined)) {
      current = await delegate(tx, m).findFirst({ where: idWhere(m, id) });
    }
    const values = fields.map((f) =>
      input[f] !== undefined ? fromWire(field(m, f) as FieldSpec, input[f]) : current?.[f],
    );
    if (values.some((v) => v === null || v === undefined)) continue;
    const target = model(rel.model);
    const read = policyWhere(target, "read", auth);
    const refs = rel.references ?? [];
    const found = isNone(read)
      ? null
      : await delegate(tx, target).findFirst({
          where: and(Object.fromEntries(refs.map((r, i) => [r, values[i]])), read),
          select: Object.fromEntries(refs.map((r) => [r, true])),
        });
    if (found === null) {
      throw new HttpError(
        409,
        MISSING_REFERENCE,
        fields.map((f) => ({ path: f, message: `names no ${target.name}` })),
      );
    }
  }
}

const UNSERIALIZABLE = "The row holds a value the API cannot send.";

/** How many of a full-text index's best matches a search considers (`meta.total` at most). */
const FULL_TEXT_MATCHES = 1000;

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
  /**
   * A write made outside the API (the `external_writes` plugin): what the row was is not known,
   * so subscribers of the model are told to resync; `after`, when readable, comes as `updated`.
   */
  resync?: true;
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

function includeOf(rules: (Expr | undefined)[]): Include | null {
  const into: Include = {};
  for (const rule of rules) if (rule !== undefined) collect(rule, [], into);
  return Object.keys(into).length === 0 ? null : into;
}

/** The relations the `read` rule and `@readable` rules of `m` look at, as a Prisma include. */
export function policyInclude(m: ModelSpec): Include | null {
  return includeOf([m.policy?.read, ...m.fields.map((f) => f.readable)]);
}

/** The relations the `@readable` rules of `m` look at, as a Prisma include. */
function readableInclude(m: ModelSpec): Include | null {
  return includeOf(m.fields.map((f) => f.readable));
}

/** A field as JSON, or null when it holds a value the wire format cannot carry. */
function wireOrNull(f: FieldSpec, v: unknown): unknown {
  try {
    return toWire(f, v);
  } catch (e) {
    if (e instanceof Unserializable) return null;
    throw e;
  }
}

/**
 * Every field of a row (hidden ones too: rules may read them) and its loaded relations, as JSON.
 * A value the wire format cannot carry is null here, so that a bad row never blocks a write.
 */
export function snapshotOf(m: ModelSpec, row: Row): Row {
  const out: Row = {};
  for (const f of m.fields) if (row[f.name] !== undefined) out[f.name] = wireOrNull(f, row[f.name]);
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
    private readonly warn: Warn = () => undefined,
    /** The plugins' write hooks (`./plugin.ts`). */
    private readonly plugins: Plugins = new Plugins([]),
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

  /** Presents rows; those that cannot be sent are left out and logged, never failing the rest. */
  private async shown(db: unknown, m: ModelSpec, rows: Row[], auth: Auth): Promise<Row[]> {
    const shown = await presentAll(db, m, rows, auth);
    const out: Row[] = [];
    shown.forEach((r, i) => {
      if (r !== null) out.push(r);
      else this.warn({ model: m.name, id: idKey(m, rows[i] as Row) }, UNSERIALIZABLE);
    });
    return out;
  }

  /** One presented row; a row that cannot be sent is a 500 (inside a transaction: rolled back). */
  private async one(db: unknown, m: ModelSpec, row: Row, auth: Auth): Promise<Row> {
    const [shown] = await presentAll(db, m, [row], auth);
    if (shown === undefined || shown === null) {
      this.warn({ model: m.name, id: idKey(m, row) }, UNSERIALIZABLE);
      throw new HttpError(500, UNSERIALIZABLE);
    }
    return shown;
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
    const cursorId =
      cursorRaw !== undefined && cursorRaw !== "" ? decodeCursor(m, cursorRaw) : undefined;
    const include = parseInclude(m, last(query.include));
    const read = policyWhere(m, "read", auth);
    const where = and(read, ...parseFilter(m, query));
    const orderBy = parseOrder(m, last(query.orderBy));
    if (isNone(where)) return { data: [], meta: { total: 0, nextCursor: null } };
    const d = delegate(this.db, m);
    // A cursor must name a row the caller can read. One it cannot read gets the answer of a
    // cursor that names no row (an empty page): a page starting after a hidden row would tell
    // that the row exists, and where it sorts.
    if (cursorId !== undefined && !(await exists(this.db, m, cursorId, read))) {
      return { data: [], meta: { total: await d.count({ where }), nextCursor: null } };
    }
    const [rows, total] = await Promise.all([
      d.findMany({
        where,
        orderBy,
        take: take + 1,
        skip: cursorId !== undefined ? skip + 1 : skip,
        ...(cursorId !== undefined ? { cursor: uniqueWhere(m, cursorId) } : {}),
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
    return { data: await this.shown(this.db, m, page, auth), meta: { total, nextCursor } };
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
    const index = this.plugins.fullText(m.name);
    if (index !== undefined) return this.fullTextSearch(b, index, q, take, auth);
    const mode = this.limits.insensitiveSearch ? { mode: "insensitive" } : {};
    const match: Where = { OR: (m.search ?? []).map((f) => ({ [f]: { contains: q, ...mode } })) };
    const where = and(policyWhere(m, "read", auth), match);
    if (isNone(where)) return { data: [], meta: { total: 0, nextCursor: null } };
    const d = delegate(this.db, m);
    const [rows, total] = await Promise.all([
      d.findMany({ where, orderBy: parseOrder(m, undefined), take }),
      d.count({ where }),
    ]);
    return { data: await this.shown(this.db, m, rows, auth), meta: { total, nextCursor: null } };
  }

  /**
   * A search ranked by a full-text index: the index's best FULL_TEXT_MATCHES matches, of which
   * those the caller may read count (`total`) and the first `take` are sent, best first.
   */
  private async fullTextSearch(
    b: Binding,
    index: FullText,
    q: string,
    take: number,
    auth: Auth,
  ): Promise<Page> {
    const m = b.spec;
    const key = m.id[0];
    const read = policyWhere(m, "read", auth);
    if (key === undefined || isNone(read)) {
      return { data: [], meta: { total: 0, nextCursor: null } };
    }
    const ranked = await index.match(q, FULL_TEXT_MATCHES);
    if (ranked.length === 0) return { data: [], meta: { total: 0, nextCursor: null } };
    const d = delegate(this.db, m);
    const readable = await d.findMany({
      where: and(read, { [key]: { in: ranked } }),
      select: { [key]: true },
    });
    const may = new Set(readable.map((r) => String(r[key])));
    const top = ranked.filter((k) => may.has(String(k))).slice(0, take);
    const rows = await d.findMany({ where: and(read, { [key]: { in: top } }) });
    const rank = new Map(top.map((k, i) => [String(k), i]));
    rows.sort((x, y) => (rank.get(String(x[key])) ?? 0) - (rank.get(String(y[key])) ?? 0));
    return {
      data: await this.shown(this.db, m, rows, auth),
      meta: { total: may.size, nextCursor: null },
    };
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
    return this.one(this.db, m, row, auth);
  }

  /** What the caller may do with the model (`id` null) or with one row (404 when unreadable). */
  async permissions(b: Binding, id: unknown[] | null, auth: Auth): Promise<Permissions> {
    const m = b.spec;
    const rowWrites = !m.view && m.id.length > 0;
    const may = (op: "read" | "create" | "update" | "delete"): boolean =>
      !deniedOutright(m, op, auth);
    const create = !m.view && b.inputs !== undefined && may("create");
    if (id === null) {
      const read = may("read");
      const fields: Record<string, FieldPermission> = {};
      for (const f of m.fields) {
        fields[f.name] = {
          read:
            read && f.output && (f.readable === undefined || !isNone(toWhere(f.readable, auth))),
          write:
            create && f.create && (f.writable === undefined || !isNone(toWhere(f.writable, auth))),
        };
      }
      const update = rowWrites && b.inputs !== undefined && may("update");
      return { read, create, update, delete: rowWrites && may("delete"), fields };
    }
    if (!rowWrites || !(await exists(this.db, m, id, policyWhere(m, "read", auth)))) {
      throw new HttpError(404, "The row does not exist.");
    }
    // Each rule is asked of the stored row, as the write checks ask it.
    const update =
      b.inputs !== undefined && (await holds(this.db, m, id, policyWhere(m, "update", auth)));
    const del = await holds(this.db, m, id, policyWhere(m, "delete", auth));
    const rule = async (e: Expr | undefined): Promise<boolean> =>
      e === undefined || (await holds(this.db, m, id, toWhere(e, auth)));
    const fields: Record<string, FieldPermission> = {};
    for (const f of m.fields) {
      fields[f.name] = {
        read: f.output && (await rule(f.readable)),
        write: update && f.update && (await rule(f.writable)),
      };
    }
    return { read: true, create, update, delete: del, fields };
  }

  async create(b: Binding, body: unknown, auth: Auth): Promise<Row> {
    const m = b.spec;
    const input = parseBody((await b.inputs?.())?.create, body);
    if (deniedOutright(m, "create", auth)) throw forbidden(FORBIDDEN);
    const rules = writableRules(m, Object.keys(input));
    // The response is built inside the transaction: if it fails, nothing stays committed.
    const { row, shown, after } = await this.client.$transaction(async (tx) => {
      const cx = { model: m.name, auth: caller(auth), db: tx };
      const data = await this.plugins.beforeCreate(cx, input);
      await checkReferences(tx, m, data, null, auth);
      const created = await delegate(tx, m).create({ data: toData(m, data) });
      const id = rowId(m, created);
      if (!(await holds(tx, m, id, policyWhere(m, "create", auth)))) throw forbidden(FORBIDDEN);
      await checkWritable(tx, m, id, rules, auth);
      await this.plugins.afterCreate(cx, created);
      // The event's row is read in the write's transaction: exactly what it commits, and nothing
      // left to fail once the write stands.
      const after = this.emits(m, "created") ? await this.snapshot(tx, m, id) : null;
      return { row: created, shown: await this.one(tx, m, created, auth), after };
    });
    void this.plugins.committed({
      model: m.name,
      operation: "create",
      id: rowId(m, row),
      row,
      auth: caller(auth),
    });
    if (this.emits(m, "created")) {
      this.onChange?.({ model: m.name, event: "created", before: null, after });
    }
    return shown;
  }

  async update(b: Binding, id: unknown[], body: unknown, auth: Auth): Promise<Row> {
    const m = b.spec;
    const input = parseBody((await b.inputs?.())?.update, body);
    const rules = writableRules(m, Object.keys(input));
    let before: Row | null = null;
    const { row, shown, snapshot } = await this.client.$transaction(async (tx) => {
      const read = policyWhere(m, "read", auth);
      if (!(await exists(tx, m, id, read))) throw new HttpError(404, "The row does not exist.");
      const rule = policyWhere(m, "update", auth);
      if (!(await holds(tx, m, id, rule))) throw forbidden(FORBIDDEN);
      await checkWritable(tx, m, id, rules, auth);
      const cx = { model: m.name, auth: caller(auth), db: tx };
      const data = await this.plugins.beforeUpdate(cx, id, input);
      await checkReferences(tx, m, data, id, auth);
      before = this.emits(m, "updated") ? await this.snapshot(tx, m, id) : null;
      const updated = await delegate(tx, m).update({
        where: uniqueWhere(m, id),
        data: toData(m, data),
      });
      const after = rowId(m, updated);
      if (!(await holds(tx, m, after, rule))) throw forbidden(FORBIDDEN);
      // Moving a row out of one's own sight (into another tenant, say) is refused unless the
      // schema opts out with `[policies] readable_after_update = false`.
      if (readableAfterUpdate && !(await holds(tx, m, after, read))) {
        throw forbidden("After this change you could no longer read the row.");
      }
      await this.plugins.afterUpdate(cx, updated);
      // As in `create`: the event's row from the write's transaction.
      const snapshot = this.emits(m, "updated") ? await this.snapshot(tx, m, after) : null;
      return { row: updated, shown: await this.one(tx, m, updated, auth), snapshot };
    });
    void this.plugins.committed({
      model: m.name,
      operation: "update",
      id: rowId(m, row),
      row,
      auth: caller(auth),
    });
    if (this.emits(m, "updated")) {
      this.onChange?.({ model: m.name, event: "updated", before, after: snapshot });
    }
    return shown;
  }

  async delete(b: Binding, id: unknown[], auth: Auth): Promise<void> {
    const m = b.spec;
    const { before, row } = await this.client.$transaction(async (tx) => {
      if (!(await exists(tx, m, id, policyWhere(m, "read", auth))))
        throw new HttpError(404, "The row does not exist.");
      if (!(await holds(tx, m, id, policyWhere(m, "delete", auth)))) throw forbidden(FORBIDDEN);
      const cx = { model: m.name, auth: caller(auth), db: tx };
      await this.plugins.beforeDelete(cx, id);
      const snapshot = this.emits(m, "deleted") ? await this.snapshot(tx, m, id) : null;
      const deleted = await delegate(tx, m).delete({ where: uniqueWhere(m, id) });
      await this.plugins.afterDelete(cx, deleted);
      return { before: snapshot, row: deleted };
    });
    void this.plugins.committed({
      model: m.name,
      operation: "delete",
      id,
      row,
      auth: caller(auth),
    });
    if (before !== null) this.onChange?.({ model: m.name, event: "deleted", before, after: null });
  }

  /**
   * A write that another program made to `modelName`'s table (reported by the `external_writes`
   * plugin): `key` is the row's id, in the order of the model's id fields, or null when it was
   * not reported. A new row is an exact `created`; for a changed or deleted row what it was is
   * not known, so the event asks its subscribers to resync (`ChangeEvent.resync`).
   */
  async changedOutside(
    modelName: string,
    operation: "insert" | "update" | "delete",
    key: unknown[] | null,
  ): Promise<void> {
    const m = model(modelName);
    const event = ({ insert: "created", update: "updated", delete: "deleted" } as const)[operation];
    if (!this.emits(m, event)) return;
    const after =
      key !== null && operation !== "delete" ? await this.snapshot(this.db, m, key) : null;
    if (operation === "insert" && key !== null) {
      if (after !== null) this.onChange?.({ model: m.name, event, before: null, after });
      return;
    }
    this.onChange?.({ model: m.name, event, before: null, after, resync: true });
  }
}
