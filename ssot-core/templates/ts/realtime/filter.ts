// Subscription filters: the `Where` objects of the SDK (`{ published: { equals: true } }`, the
// same fields and operators as `filter[field][op]` over HTTP), checked when subscribing and
// matched in memory against event rows (JSON in the wire format).

import { filterOperators } from "../policies/index.js";
import type { FieldSpec, ModelSpec } from "../policies/index.js";
import { parseParam } from "../server/wire.js";

export type Filter = Record<string, Record<string, unknown>>;

/** A filter value in the wire format of its field (what `filter[f][op]=` takes over HTTP). */
function checkValue(f: FieldSpec, op: string, v: unknown): string | null {
  if (v === null)
    return f.nullable && (op === "equals" || op === "not") ? null : "must not be null";
  const wanted =
    f.type === "Int" || f.type === "Float" ? "number" : f.type === "Boolean" ? "boolean" : "string";
  if (typeof v !== wanted) return `must be a ${wanted}`;
  try {
    parseParam(f, String(v));
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Checks a filter; returns an error message or null. */
export function checkFilter(m: ModelSpec, filter: unknown): string | null {
  if (filter === undefined) return null;
  if (typeof filter !== "object" || filter === null || Array.isArray(filter)) {
    return "filter must be an object";
  }
  for (const [name, cond] of Object.entries(filter)) {
    const f = m.fields.find((x) => x.name === name);
    if (f === undefined || !f.filter) return `unknown filter field ${name}`;
    if (typeof cond !== "object" || cond === null || Array.isArray(cond)) {
      return `filter.${name} must be an object of operators`;
    }
    const ops = filterOperators(f);
    for (const [op, v] of Object.entries(cond)) {
      if (!ops.includes(op)) return `unknown operator ${op} for ${name}`;
      if (op === "in" && !Array.isArray(v)) return `filter.${name}.in must be an array`;
      for (const item of op === "in" ? (v as unknown[]) : [v]) {
        const problem = checkValue(f, op, item);
        if (problem !== null) return `filter.${name}.${op} ${problem}`;
      }
    }
  }
  return null;
}

/** Comparable form of a wire value: numbers, and numeric strings of BigInt and Decimal fields. */
function key(f: FieldSpec, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (f.type === "BigInt" || f.type === "Decimal") return Number(v);
  if (f.type === "DateTime") return typeof v === "string" ? Date.parse(v) : v;
  return v;
}

function holds(f: FieldSpec, op: string, actual: unknown, wanted: unknown): boolean {
  const a = key(f, actual);
  switch (op) {
    case "equals":
      return a === key(f, wanted);
    case "not":
      return a !== key(f, wanted);
    case "in":
      return Array.isArray(wanted) && wanted.some((w) => a === key(f, w));
    case "contains":
      return typeof a === "string" && typeof wanted === "string" && a.includes(wanted);
    case "startsWith":
      return typeof a === "string" && typeof wanted === "string" && a.startsWith(wanted);
    case "endsWith":
      return typeof a === "string" && typeof wanted === "string" && a.endsWith(wanted);
    default: {
      const b = key(f, wanted);
      if (a === null || b === null) return false;
      if (typeof a !== typeof b) return false;
      const x = a as number | string;
      const y = b as number | string;
      return op === "lt" ? x < y : op === "lte" ? x <= y : op === "gt" ? x > y : x >= y;
    }
  }
}

/** Does the row match every condition of the filter? */
export function matches(
  m: ModelSpec,
  filter: Filter | undefined,
  row: Record<string, unknown>,
): boolean {
  if (filter === undefined) return true;
  for (const [name, cond] of Object.entries(filter)) {
    const f = m.fields.find((x) => x.name === name);
    if (f === undefined) return false;
    for (const [op, v] of Object.entries(cond)) if (!holds(f, op, row[name], v)) return false;
  }
  return true;
}
