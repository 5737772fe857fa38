// Policy expressions of `@@policy`, `@readable` and `@writable`, as the schema states them, and
// the two ways they are used: compiled to a Prisma `where` (reads, and checks inside write
// transactions) and evaluated on a loaded row (field masks, realtime events). Null compares like
// a value (`null == null` is true, `null < 1` is false); an unknown value (a relation that was not
// loaded) makes the in-memory result unknown, and unknown denies.

/** The calling principal: the claims of `[auth.claims]`, or null when anonymous. */
export type Principal = Readonly<Record<string, unknown>>;
export type Auth = Principal | null;

export interface Hop {
  field: string;
  model: string;
  optional?: boolean;
}

export interface ValueType {
  base: string | { enum_name: string };
  list?: boolean;
  nullable?: boolean;
}

export type CmpOp = "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in";

export type Operand =
  | { kind: "null" }
  | { kind: "bool"; value: boolean }
  | { kind: "int"; value: number }
  | { kind: "float"; value: number }
  | { kind: "string"; value: string }
  | { kind: "enum"; enum_name: string; value: string }
  | { kind: "list"; items: Operand[] }
  | { kind: "field"; hops: Hop[]; field: string; ty: ValueType }
  | { kind: "auth" }
  | { kind: "claim"; name: string; ty: ValueType };

export type Expr =
  | { kind: "bool"; value: boolean }
  | { kind: "truthy"; operand: Operand }
  | { kind: "compare"; op: CmpOp; left: Operand; right: Operand }
  | { kind: "not"; expr: Expr }
  | { kind: "and"; exprs: Expr[] }
  | { kind: "or"; exprs: Expr[] }
  | {
      kind: "quant";
      quant: "some" | "every" | "none";
      hops: Hop[];
      relation: string;
      model: string;
      body: Expr;
    };

/** A Prisma `where` object. */
export type Where = Record<string, unknown>;

/** Matches every row. */
export const ALL: Where = {};
/** Matches no row (Prisma reads an empty `OR` as false). */
export const NONE: Where = { OR: [] };

/** A policy uses a comparison the database filter cannot express. */
export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PolicyError";
  }
}

const OPAQUE = Symbol("principal");
type Value = unknown;

/**
 * A value as the schema types it, whatever form it arrived in: BigInt as `bigint`, Decimal as a
 * number, DateTime as a `Date`. Rows from the database already are; JSON rows (realtime events)
 * and claims carry BigInt and Decimal as strings, and `"9" != 9` must not be true anywhere.
 */
function typed(ty: ValueType, v: Value): Value {
  if (v === null || v === undefined) return v;
  if (Array.isArray(v)) return v.map((x: Value) => typed(ty, x));
  if (typeof v !== "string") return v;
  switch (ty.base) {
    case "BigInt":
      return /^-?\d+$/.test(v) ? BigInt(v) : v;
    case "Decimal":
      return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
    case "DateTime": {
      const t = Date.parse(v);
      return Number.isNaN(t) ? v : new Date(t);
    }
    default:
      return v;
  }
}

function claim(auth: Auth, name: string, ty: ValueType): Value {
  if (auth === null) return null;
  const v = auth[name];
  return v === undefined ? null : typed(ty, v);
}

/** The value of an operand that does not read the row. */
function constant(o: Operand, auth: Auth): Value {
  switch (o.kind) {
    case "null":
      return null;
    case "bool":
    case "int":
    case "float":
    case "string":
    case "enum":
      return o.value;
    case "list":
      return o.items.map((i) => constant(i, auth));
    case "auth":
      return auth === null ? null : OPAQUE;
    case "claim":
      return claim(auth, o.name, o.ty);
    case "field":
      throw new PolicyError(`field ${o.field} is not a constant`);
  }
}

/** Comparable form: dates as milliseconds, Decimals as numbers; a bigint stays exact. */
function norm(v: Value): Value {
  if (v instanceof Date) return v.getTime();
  if (typeof v === "object" && v !== null && "toNumber" in v && typeof v.toNumber === "function") {
    return (v as { toNumber(): number }).toNumber();
  }
  return v;
}

function numeric(v: Value): v is number | bigint {
  return typeof v === "number" || typeof v === "bigint";
}

function equal(a: Value, b: Value): boolean {
  const x = norm(a);
  const y = norm(b);
  if (Array.isArray(x) && Array.isArray(y)) {
    return x.length === y.length && x.every((v, i) => equal(v, y[i]));
  }
  // `9n` equals `9` (a BigInt field and an Int literal or claim); `<`/`>` compare them exactly.
  if (numeric(x) && numeric(y) && typeof x !== typeof y) return !(x < y) && !(x > y);
  return x === y;
}

function order(a: Value, b: Value): number | null {
  const x = norm(a);
  const y = norm(b);
  if (numeric(x) && numeric(y)) return x < y ? -1 : x > y ? 1 : 0;
  if (typeof x === "string" && typeof y === "string") return x < y ? -1 : x > y ? 1 : 0;
  return null;
}

/** `a op b` on known values. */
export function compare(op: CmpOp, a: Value, b: Value): boolean {
  switch (op) {
    case "==":
      return equal(a, b);
    case "!=":
      return !equal(a, b);
    case "in":
    case "not in": {
      const found = a !== null && Array.isArray(b) && b.some((x) => equal(a, x));
      return op === "in" ? found : !found;
    }
    default: {
      const o = order(a, b);
      if (o === null) return false;
      return op === "<" ? o < 0 : op === "<=" ? o <= 0 : op === ">" ? o > 0 : o >= 0;
    }
  }
}

// ---- compiled to a Prisma `where` ---------------------------------------------------------

type W = Where | boolean;

function and(parts: W[]): W {
  if (parts.includes(false)) return false;
  const rest = parts.filter((p): p is Where => p !== true);
  return rest.length === 0 ? true : rest.length === 1 ? (rest[0] as Where) : { AND: rest };
}

function or(parts: W[]): W {
  if (parts.includes(true)) return true;
  const rest = parts.filter((p): p is Where => p !== false);
  return rest.length === 0 ? false : rest.length === 1 ? (rest[0] as Where) : { OR: rest };
}

function close(w: W): Where {
  return w === true ? ALL : w === false ? NONE : w;
}

function nest(hops: Hop[], w: W): W {
  if (typeof w === "boolean") return w;
  let out: Where = w;
  for (const hop of [...hops].reverse()) out = { [hop.field]: { is: out } };
  return out;
}

const NEGATED: Record<CmpOp, CmpOp> = {
  "==": "!=",
  "!=": "==",
  "<": ">=",
  "<=": ">",
  ">": "<=",
  ">=": "<",
  in: "not in",
  "not in": "in",
};
const FLIPPED: Record<CmpOp, CmpOp> = {
  "==": "==",
  "!=": "!=",
  "<": ">",
  "<=": ">=",
  ">": "<",
  ">=": "<=",
  in: "in",
  "not in": "not in",
};
const PRISMA_ORDER: Partial<Record<CmpOp, string>> = {
  "<": "lt",
  "<=": "lte",
  ">": "gt",
  ">=": "gte",
};

/** `field op value` with the null rules of the language, as SQL would otherwise drop nulls. */
function fieldCondition(
  f: Extract<Operand, { kind: "field" }>,
  op: CmpOp,
  v: Value,
  negated: boolean,
): W {
  const nullable = f.ty.nullable === true;
  const orNull = (w: Where): W => (nullable ? { OR: [w, { [f.field]: null }] } : w);
  const ordering = PRISMA_ORDER[op];
  if (ordering !== undefined) {
    if (v === null || typeof v === "symbol") return negated;
    if (!negated) return { [f.field]: { [ordering]: v } };
    return orNull({ [f.field]: { [PRISMA_ORDER[NEGATED[op]] as string]: v } });
  }
  const eff = negated ? NEGATED[op] : op;
  switch (eff) {
    case "==":
      return v === null ? { [f.field]: null } : { [f.field]: { equals: v } };
    case "!=":
      return v === null ? { [f.field]: { not: null } } : orNull({ [f.field]: { not: v } });
    case "in": {
      const items = Array.isArray(v) ? v.filter((x) => x !== null) : [];
      return items.length === 0 ? false : { [f.field]: { in: items } };
    }
    default: {
      const items = Array.isArray(v) ? v.filter((x) => x !== null) : [];
      return items.length === 0 ? true : orNull({ [f.field]: { notIn: items } });
    }
  }
}

function compile(e: Expr, auth: Auth, negated: boolean): W {
  switch (e.kind) {
    case "bool":
      return e.value !== negated;
    case "not":
      return compile(e.expr, auth, !negated);
    case "and":
    case "or": {
      const parts = e.exprs.map((x) => compile(x, auth, negated));
      return (e.kind === "and") !== negated ? and(parts) : or(parts);
    }
    case "truthy": {
      const o = e.operand;
      if (o.kind !== "field") return (constant(o, auth) === true) !== negated;
      return nest(o.hops, fieldCondition(o, "==", true, negated));
    }
    case "quant": {
      const body = close(compile(e.body, auth, e.quant === "every" && negated));
      const q = negated ? { some: "none", every: "some", none: "some" }[e.quant] : e.quant;
      return nest(e.hops, { [e.relation]: { [q]: body } });
    }
    case "compare": {
      let { op, left, right } = e;
      if (left.kind !== "field" && right.kind === "field") {
        if (op === "in" || op === "not in") {
          if (right.ty.list !== true) throw new PolicyError(`\`in\` needs a list on its right`);
          const v = constant(left, auth);
          const has: Where = { [right.field]: { has: v } };
          const yes = op === "in" ? !negated : negated;
          return nest(
            right.hops,
            yes ? (v === null ? false : has) : v === null ? true : { NOT: has },
          );
        }
        [left, right, op] = [right, left, FLIPPED[op]];
      }
      if (left.kind !== "field") {
        return compare(op, constant(left, auth), constant(right, auth)) !== negated;
      }
      if (right.kind === "field") {
        throw new PolicyError(
          `comparing two fields (${left.field} ${op} ${right.field}) is not supported in database filters`,
        );
      }
      return nest(left.hops, fieldCondition(left, op, constant(right, auth), negated));
    }
  }
}

/** The Prisma `where` of an expression for this principal. */
export function toWhere(e: Expr, auth: Auth): Where {
  return close(compile(e, auth, false));
}

/** True when the expression holds for every row (no database check needed). */
export function isAll(w: Where): boolean {
  return Object.keys(w).length === 0;
}

/** True when the expression holds for no row. */
export function isNone(w: Where): boolean {
  const keys = Object.keys(w);
  return keys.length === 1 && Array.isArray(w.OR) && w.OR.length === 0;
}

// ---- evaluated on a loaded row (Kleene logic: undefined is unknown) ---------------------------

type Known = { v: Value } | undefined;

function read(row: unknown, hops: Hop[], field: string): Known {
  let cur: unknown = row;
  for (const hop of hops) {
    if (typeof cur !== "object" || cur === null) return undefined;
    const next = (cur as Record<string, unknown>)[hop.field];
    if (next === undefined) return undefined;
    if (next === null) return { v: null };
    cur = next;
  }
  if (typeof cur !== "object" || cur === null) return undefined;
  const v = (cur as Record<string, unknown>)[field];
  return v === undefined ? undefined : { v };
}

function operand(o: Operand, row: unknown, auth: Auth): Known {
  if (o.kind !== "field") return { v: constant(o, auth) };
  const known = read(row, o.hops, o.field);
  return known === undefined ? undefined : { v: typed(o.ty, known.v) };
}

/** Evaluates an expression on a row: true, false, or undefined when a needed value is missing. */
export function evaluate(e: Expr, row: unknown, auth: Auth): boolean | undefined {
  switch (e.kind) {
    case "bool":
      return e.value;
    case "not": {
      const v = evaluate(e.expr, row, auth);
      return v === undefined ? undefined : !v;
    }
    case "and": {
      let unknown = false;
      for (const x of e.exprs) {
        const v = evaluate(x, row, auth);
        if (v === false) return false;
        if (v === undefined) unknown = true;
      }
      return unknown ? undefined : true;
    }
    case "or": {
      let unknown = false;
      for (const x of e.exprs) {
        const v = evaluate(x, row, auth);
        if (v === true) return true;
        if (v === undefined) unknown = true;
      }
      return unknown ? undefined : false;
    }
    case "truthy": {
      const v = operand(e.operand, row, auth);
      return v === undefined ? undefined : v.v === true;
    }
    case "compare": {
      const a = operand(e.left, row, auth);
      const b = operand(e.right, row, auth);
      return a === undefined || b === undefined ? undefined : compare(e.op, a.v, b.v);
    }
    case "quant": {
      const list = read(row, e.hops, e.relation);
      if (list === undefined) return undefined;
      if (!Array.isArray(list.v)) return list.v === null ? e.quant !== "some" : undefined;
      const results = list.v.map((item: unknown) => evaluate(e.body, item, auth));
      if (e.quant === "some") {
        return results.includes(true) ? true : results.includes(undefined) ? undefined : false;
      }
      if (e.quant === "every") {
        return results.includes(false) ? false : results.includes(undefined) ? undefined : true;
      }
      return results.includes(true) ? false : results.includes(undefined) ? undefined : true;
    }
  }
}
