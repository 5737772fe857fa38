// The one policy module: HTTP routes and realtime events read rows, check writes and mask fields
// through these functions only. `schema.json` holds the models and their compiled policies.

import schema from "./schema.json" with { type: "json" };
import { ALL, NONE, evaluate, isNone, toWhere } from "./runtime.js";
import type { Auth, Expr, Where } from "./runtime.js";

export * from "./runtime.js";

export type Operation = "read" | "create" | "update" | "delete";
export type AuthMethod = "jwt" | "apiKey" | "public";

export interface FieldSpec {
  name: string;
  /** Scalar type name (`String`, `Int`, ...), `enum` or `composite`. */
  type: string;
  enumValues?: string[];
  list: boolean;
  nullable: boolean;
  /** Sent in responses (not `@hidden` or `@writeOnly`). */
  output: boolean;
  /** Accepted in create inputs. */
  create: boolean;
  /** Accepted in update inputs. */
  update: boolean;
  /** Usable in `filter[...]` and `orderBy`. */
  filter: boolean;
  /** A UUID (`@db.Uuid`, `@validate(uuid)`): filter values and path ids are checked as such. */
  uuid?: boolean;
  readable?: Expr;
  writable?: Expr;
}

export interface RelationSpec {
  name: string;
  model: string;
  list: boolean;
  nullable: boolean;
  /** The foreign-key fields this side holds, and the fields of `model` they reference. */
  fields?: string[];
  references?: string[];
}

export interface ModelSpec {
  name: string;
  /** The Prisma client property (`prisma.post`). */
  delegate: string;
  /** The URL segment under `/api/`. */
  path: string;
  view: boolean;
  api: boolean;
  /** Id fields in `@@id` order; empty when the model has no id. */
  id: string[];
  /** The Prisma unique input key of a compound id (`a_b`), null for a single id. */
  idKey: string | null;
  auth: AuthMethod[];
  rateLimit: { limit: number; windowSeconds: number } | null;
  search: string[] | null;
  realtime: string[] | null;
  fields: FieldSpec[];
  relations: RelationSpec[];
  /** Null when the model has no `@@policy` (open to every caller `@@auth` lets in). */
  policy: Partial<Record<Operation, Expr>> | null;
}

export const models = schema.models as unknown as Readonly<Record<string, ModelSpec>>;

/**
 * After an update the row must still be readable by the caller: moving one's document into
 * another tenant's project is refused. `[policies] readable_after_update = false` turns it off.
 */
export const readableAfterUpdate: boolean =
  (schema as { readableAfterUpdate?: boolean }).readableAfterUpdate !== false;

export function model(name: string): ModelSpec {
  const m = models[name];
  if (m === undefined) throw new Error(`unknown model ${name}`);
  return m;
}

/**
 * The rows of `m` this principal may `op`, as a Prisma `where`. Fail closed: a model with a
 * policy that does not name the operation matches nothing.
 */
export function policyWhere(m: ModelSpec, op: Operation, auth: Auth): Where {
  if (m.policy === null) return ALL;
  const rule = m.policy[op];
  return rule === undefined ? NONE : toWhere(rule, auth);
}

/** True when the policy denies `op` to this principal whatever the row. */
export function deniedOutright(m: ModelSpec, op: Operation, auth: Auth): boolean {
  return isNone(policyWhere(m, op, auth));
}

/** In memory: may this principal read this loaded row? Unknown (an unloaded relation) is no. */
export function canRead(m: ModelSpec, row: unknown, auth: Auth): boolean {
  if (m.policy === null) return true;
  const rule = m.policy.read;
  return rule !== undefined && evaluate(rule, row, auth) === true;
}

/** The field's `@readable` rule holds for this row (true when it has none). */
export function fieldReadable(f: FieldSpec, row: unknown, auth: Auth): boolean {
  return f.readable === undefined || evaluate(f.readable, row, auth) === true;
}

const ORDERED = ["equals", "not", "in", "lt", "lte", "gt", "gte"] as const;
const OPERATORS: Readonly<Record<string, readonly string[]>> = {
  String: [...ORDERED, "contains", "startsWith", "endsWith"],
  Boolean: ["equals", "not"],
  enum: ["equals", "not", "in"],
};

/** The filter operators of a field, the same for HTTP `filter[f][op]` and realtime filters. */
export function filterOperators(f: FieldSpec): readonly string[] {
  return OPERATORS[f.type] ?? ORDERED;
}

/** Fields with a `@writable` rule that the input sets: each must hold on the row. */
export function writableRules(m: ModelSpec, keys: Iterable<string>): FieldSpec[] {
  const set = new Set(keys);
  return m.fields.filter((f) => f.writable !== undefined && set.has(f.name));
}
