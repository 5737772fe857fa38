// {{ header }}
// The wire format of the Rust side, in Zod: each helper accepts exactly what the Rust serde
// adapters of the `ssot` crate accept (see docs/wire-format.md).
import { z } from "zod";

const BIGINT = /^(0|-?[1-9][0-9]*)$/;
const DECIMAL = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/;
const EMAIL =
  /^(?!\.)(?!.*\.\.)[A-Za-z0-9_'+\-.]*[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9-]*\.)+[A-Za-z]{2,}$/;
const UUID =
  /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|[fF]{8}-[fF]{4}-[fF]{4}-[fF]{4}-[fF]{12})$/;
const BASE64 = /^([0-9a-zA-Z+/]{4})*(([0-9a-zA-Z+/]{2}==)|([0-9a-zA-Z+/]{3}=))?$/;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const DECIMAL_MANTISSA_MAX = 2n ** 96n;

/** Rules of `@validate` on `String` fields. */
export interface StringRules {
  email?: true;
  url?: true;
  uuid?: true;
  regex?: RegExp;
  minLength?: number;
  maxLength?: number;
  nonEmpty?: true;
}

/** Rules of `@validate` on `Int` and `Float` fields. */
export interface NumberRules {
  min?: number;
  max?: number;
}

/** Rules of `@validate` on `BigInt` and `Decimal` fields: exact bounds as strings. */
export interface ExactRules {
  min?: string;
  max?: string;
}

/** `String`, with its `@validate` rules; lengths count UTF-16 units, as Rust does. */
export function string(rules: StringRules = {}) {
  let s = z.string();
  const { minLength, maxLength, regex } = rules;
  if (rules.nonEmpty) s = s.min(1, "must not be empty");
  if (minLength !== undefined) s = s.min(minLength, `must be at least ${minLength} characters`);
  if (maxLength !== undefined) s = s.max(maxLength, `must be at most ${maxLength} characters`);
  if (rules.email) s = s.refine(email, "must be an email address");
  if (rules.url) s = s.refine(url, "must be a URL");
  if (rules.uuid) s = s.refine(uuid, "must be a UUID");
  if (regex) s = s.regex(regex, `must match ${String(regex)}`);
  return s;
}

/** `Int`: an integer in the 32-bit range. */
export function int(rules: NumberRules = {}) {
  let n = z.int32();
  if (rules.min !== undefined) n = n.min(rules.min, `must be at least ${rules.min}`);
  if (rules.max !== undefined) n = n.max(rules.max, `must be at most ${rules.max}`);
  return n;
}

/** `Float`: a finite number. */
export function float(rules: NumberRules = {}) {
  let n = z.number();
  if (rules.min !== undefined) n = n.min(rules.min, `must be at least ${rules.min}`);
  if (rules.max !== undefined) n = n.max(rules.max, `must be at most ${rules.max}`);
  return n;
}

/** `BigInt`: a string of digits within the 64-bit range. */
export function bigint(rules: ExactRules = {}) {
  const { min, max } = rules;
  let s = z
    .string()
    .regex(BIGINT, "must be a string of digits")
    .refine((v) => {
      // Zod runs every check; only convert what the pattern admitted.
      if (!BIGINT.test(v)) return false;
      const n = BigInt(v);
      return n >= I64_MIN && n <= I64_MAX;
    }, "must be within the 64-bit range");
  if (min !== undefined)
    s = s.refine((v) => BIGINT.test(v) && cmpBigInt(v, min) >= 0, `must be at least ${min}`);
  if (max !== undefined)
    s = s.refine((v) => BIGINT.test(v) && cmpBigInt(v, max) <= 0, `must be at most ${max}`);
  return s;
}

/** `Decimal`: a decimal string with at most 28 fraction digits and a 96-bit mantissa. */
export function decimal(rules: ExactRules = {}) {
  const { min, max } = rules;
  let s = z
    .string()
    .regex(DECIMAL, "must be a decimal string")
    .refine((v) => {
      if (!DECIMAL.test(v)) return false;
      const [whole = "", fraction = ""] = v.replace("-", "").split(".");
      return fraction.length <= 28 && BigInt(whole + fraction) < DECIMAL_MANTISSA_MAX;
    }, "must fit a 96-bit decimal");
  if (min !== undefined)
    s = s.refine((v) => DECIMAL.test(v) && cmpDecimal(v, min) >= 0, `must be at least ${min}`);
  if (max !== undefined)
    s = s.refine((v) => DECIMAL.test(v) && cmpDecimal(v, max) <= 0, `must be at most ${max}`);
  return s;
}

/** `Boolean`. */
export const boolean = () => z.boolean();

/** `DateTime`: an RFC 3339 date-time with `T` and an offset, in years 0001 to 9999 in UTC. */
export const dateTime = () => z.string().refine(isDateTime, "must be an RFC 3339 date-time");

/** `Bytes`: standard base64 with padding. */
export const bytes = () => z.string().regex(BASE64, "must be base64");

/** Standard base64 with padding (what `bytes()` accepts). */
export const isBase64 = (s: string) => BASE64.test(s);

/** How deep arrays and objects may nest in a `Json` value (the Rust side stops at the same depth). */
export const JSON_MAX_DEPTH = 100;

/** The nesting of arrays and objects, counted without recursion (`[[1]]` is 2). */
export function jsonDepth(v: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[v, 0]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [value, depth] = top;
    if (typeof value !== "object" || value === null) continue;
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** `Json`: any JSON value, nested at most `JSON_MAX_DEPTH` deep (checked before Zod recurses). */
export const json = () =>
  z
    .unknown()
    .refine((v) => jsonDepth(v) <= JSON_MAX_DEPTH, `must nest at most ${JSON_MAX_DEPTH} deep`)
    .pipe(z.json());

/** `unknown` when what a shape parses is a `T`, else `never` (no argument fits). */
type Parses<S extends z.core.$ZodLooseShape, T> =
  z.output<z.ZodObject<S>> extends T ? unknown : never;

/**
 * `z.object(shape)` typed as `z.ZodType<T>`: compiles only if what it parses is a `T`. The output
 * types are compared, not Zod's classes, which keeps tsc fast and small on large schemas.
 */
export function object<T>() {
  return <S extends z.core.$ZodLooseShape>(shape: S & Parses<S, T>): z.ZodType<T> =>
    z.object(shape) as unknown as z.ZodType<T>;
}

/** `z.strictObject(shape)` (unknown keys are errors) typed as `z.ZodType<T>`, checked as {@link object}. */
export function strictObject<T>() {
  return <S extends z.core.$ZodLooseShape>(shape: S & Parses<S, T>): z.ZodType<T> =>
    z.strictObject(shape) as unknown as z.ZodType<T>;
}

/** A list, with `@validate(nonEmpty)`. */
export function list<T extends z.ZodType>(item: T, rules: { nonEmpty?: true } = {}) {
  const a = z.array(item);
  return rules.nonEmpty ? a.min(1, "must not be empty") : a;
}

/** `@validate(email)`: the pattern of the Rust validators. */
export const email = (s: string) => EMAIL.test(s);

/** `@validate(uuid)`: RFC 9562 versions 1 to 8, nil and max. */
export const uuid = (s: string) => UUID.test(s);

/** `@validate(url)`: what the WHATWG URL parser accepts. */
export const url = (s: string) => URL.canParse(s);

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Checks the calendar too: no February 30th, no 24:00, no leap second. */
export function isDateTime(s: string): boolean {
  const m = DATE_TIME.exec(s);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((x) => Number(x));
  if (
    year === undefined ||
    month === undefined ||
    day === undefined ||
    hour === undefined ||
    minute === undefined ||
    second === undefined
  ) {
    return false;
  }
  const offsetOk = m[8] === "Z" || (Number(m[9]) <= 23 && Number(m[10]) <= 59);
  // The instant in UTC must be writable in RFC 3339 (years 0001 to 9999): the local fields of
  // `9999-12-31T23:59:59-23:59` are fine, but the instant is in year 10000.
  const utcYear = new Date(Date.parse(s)).getUTCFullYear();
  return (
    utcYear >= 1 &&
    utcYear <= 9999 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysIn(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetOk
  );
}

/** Compares two integer strings exactly. */
export function cmpBigInt(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Compares two decimal strings exactly. */
export function cmpDecimal(a: string, b: string): number {
  const scale = (s: string) => s.split(".")[1]?.length ?? 0;
  const digits = Math.max(scale(a), scale(b));
  const units = (s: string) => {
    const negative = s.startsWith("-");
    const [whole = "0", fraction = ""] = s.replace("-", "").split(".");
    const n = BigInt(whole + fraction.padEnd(digits, "0"));
    return negative ? -n : n;
  };
  const x = units(a);
  const y = units(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

// ---- claims of a principal (a token's payload or an API key's claims) ----------------------
// Strict on purpose: `z.coerce` would turn `true`, `"1e0"`, `[1]`, `"0x1"`, `" 1 "`, `null` and
// `""` into numbers, and a token carrying any of them would act as some user.

/** An `Int` claim: a 32-bit integer, or a string of digits (a standard `sub`). */
export const intClaim = () =>
  z
    .union([
      z.number().int(),
      z
        .string()
        .regex(/^-?\d{1,10}$/)
        .transform(Number),
    ])
    .pipe(z.number().int().min(-2147483648).max(2147483647));

/** A `BigInt` claim: an integer or a string of digits, as the digits string of the wire format. */
export const bigIntClaim = () =>
  z.union([z.number().int().transform(String), z.string().regex(/^-?\d+$/)]);

/** A `Float` or `Decimal` claim: a number, or a plain decimal string. */
export const numberClaim = () =>
  z.union([
    z.number(),
    z
      .string()
      .regex(/^-?\d+(\.\d+)?$/)
      .transform(Number),
  ]);
