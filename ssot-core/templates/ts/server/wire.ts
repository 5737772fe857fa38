// Between Prisma's values and the JSON wire format (docs/wire-format.md): DateTime as RFC 3339
// in UTC, BigInt and Decimal as strings, Bytes as base64.

import { DbNull } from "@prisma/client/runtime/client";
import type { FieldSpec } from "../policies/index.js";
import { isBase64, isDateTime, uuid } from "../validators/common.js";

/** A stored value the wire format cannot carry (a DateTime past year 9999 written by another program). */
export class Unserializable extends Error {
  constructor(field: string) {
    super(`the value of ${field} cannot be written in the wire format`);
    this.name = "Unserializable";
  }
}

function outScalar(f: FieldSpec, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (f.type) {
    case "DateTime": {
      if (!(v instanceof Date)) return v;
      const year = v.getUTCFullYear();
      if (Number.isNaN(year) || year < 1 || year > 9999) throw new Unserializable(f.name);
      return v.toISOString();
    }
    case "BigInt":
      return typeof v === "bigint" ? v.toString() : v;
    case "Decimal":
      return typeof v === "object" && "toFixed" in v
        ? (v as { toFixed(): string }).toFixed()
        : String(v);
    case "Bytes":
      return v instanceof Uint8Array ? Buffer.from(v).toString("base64") : v;
    default:
      return v;
  }
}

/** A field's value as JSON. */
export function toWire(f: FieldSpec, v: unknown): unknown {
  if (f.list && Array.isArray(v)) return v.map((x) => outScalar(f, x));
  return outScalar(f, v);
}

function inScalar(f: FieldSpec, v: unknown): unknown {
  if (v === null) return null;
  switch (f.type) {
    case "DateTime":
      return typeof v === "string" ? new Date(v) : v;
    case "BigInt":
      return typeof v === "string" ? BigInt(v) : v;
    case "Bytes":
      return typeof v === "string" ? Uint8Array.from(Buffer.from(v, "base64")) : v;
    default:
      return v;
  }
}

/** A validated input value as Prisma takes it (`null` on an optional Json field is a database NULL). */
export function fromWire(f: FieldSpec, v: unknown): unknown {
  if (f.type === "Json") return v === null && f.nullable ? DbNull : v;
  if (f.list && Array.isArray(v)) return v.map((x) => inScalar(f, x));
  return inScalar(f, v);
}

/** A single query-string value parsed for a field; throws a message when it does not fit. */
export function parseParam(f: FieldSpec, raw: string): unknown {
  switch (f.type) {
    case "String":
      if (f.uuid === true && !uuid(raw)) throw new Error("expected a UUID");
      return raw;
    case "Int": {
      if (!/^-?\d+$/.test(raw)) throw new Error("expected an integer");
      const n = Number(raw);
      if (n < -2147483648 || n > 2147483647) throw new Error("expected a 32-bit integer");
      return n;
    }
    case "BigInt":
      if (!/^-?\d+$/.test(raw)) throw new Error("expected an integer");
      return BigInt(raw);
    case "Float": {
      const n = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(n)) throw new Error("expected a number");
      return n;
    }
    case "Decimal":
      if (!/^-?\d+(\.\d+)?$/.test(raw)) throw new Error("expected a decimal number");
      return raw;
    case "Boolean":
      if (raw !== "true" && raw !== "false") throw new Error("expected true or false");
      return raw === "true";
    case "DateTime": {
      // A full date-time, or a date (midnight UTC); `2020-02-30` is refused, not rolled over.
      const full = /^\d{4}-\d{2}-\d{2}$/.test(raw) ? `${raw}T00:00:00Z` : raw;
      if (!isDateTime(full)) throw new Error("expected an RFC 3339 date-time");
      return new Date(full);
    }
    case "Bytes":
      // Ids and cursors of `Bytes @id` rows: standard base64, as the wire format writes them.
      if (!isBase64(raw)) throw new Error("expected base64");
      return Uint8Array.from(Buffer.from(raw, "base64"));
    case "enum":
      if (!(f.enumValues ?? []).includes(raw)) {
        throw new Error(`expected one of ${(f.enumValues ?? []).join(", ")}`);
      }
      return raw;
    default:
      throw new Error("this field cannot be filtered");
  }
}
