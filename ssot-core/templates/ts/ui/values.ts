// Values between the wire format (SPEC §4), what a person reads and what a form holds. Exact
// types stay exact: Decimal and BigInt are strings throughout, DateTime keeps its UTC instant.
import type { FieldMeta, Row } from "./meta.js";

/** What a form field holds: text, or a checkbox's state. */
export type Draft = Record<string, string | boolean>;

const NUMBER = new Set(["Int", "Float"]);

/** A value as a person reads it, in the browser's locale. */
export function formatValue(field: FieldMeta, value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (field.list && Array.isArray(value)) {
    return value.map((v) => formatValue({ ...field, list: false }, v)).join(", ");
  }
  switch (field.type) {
    case "DateTime":
      return new Date(String(value)).toLocaleString();
    case "Boolean":
      return value === true ? "yes" : "no";
    case "Json":
      return JSON.stringify(value, null, 2);
    case "Bytes":
      return `${Math.floor((String(value).length * 3) / 4)} bytes (base64)`;
    default:
      return typeof value === "object" ? JSON.stringify(value) : String(value);
  }
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** An ISO instant as the value of a `datetime-local` input, in the browser's time zone. */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const ms = d.getMilliseconds() === 0 ? "" : `.${String(d.getMilliseconds()).padStart(3, "0")}`;
  return `${date}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${ms}`;
}

/** A form's text for a field's current value. */
export function toDraft(field: FieldMeta, value: unknown): string | boolean {
  if (field.type === "Boolean" && !field.list) return value === true;
  if (value === null || value === undefined) return "";
  if (field.list || field.kind === "object" || field.type === "Json") {
    return JSON.stringify(value, null, 2);
  }
  if (field.type === "DateTime") return toLocalInput(String(value));
  return String(value);
}

/** The drafts of a row's fields. */
export function draftsOf(fields: FieldMeta[], row: Row | undefined): Draft {
  const drafts: Draft = {};
  for (const f of fields) drafts[f.name] = toDraft(f, row?.[f.name]);
  return drafts;
}

/** A JSON text a person typed: the value, or `undefined` when it does not parse. */
function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

export class DraftError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The wire value of a draft: `undefined` leaves the field out (an empty optional field of a
 * create, an untouched field of an update), `null` clears it.
 */
export function fromDraft(field: FieldMeta, draft: string | boolean, creating: boolean): unknown {
  if (typeof draft === "boolean") return draft;
  const text = field.type === "String" ? draft : draft.trim();
  if (text === "") {
    if (field.type === "String" && !field.nullable && !field.createOptional) return "";
    if (creating && field.createOptional) return undefined;
    return field.nullable ? null : undefined;
  }
  if (field.list || field.kind === "object" || field.type === "Json") {
    const parsed = parseJson(text);
    if (parsed === undefined) throw new DraftError(field.name, "must be valid JSON");
    return parsed.value;
  }
  if (NUMBER.has(field.type)) {
    const n = Number(text);
    return Number.isNaN(n) ? text : n;
  }
  if (field.type === "DateTime") {
    const d = new Date(text);
    return Number.isNaN(d.getTime()) ? text : d.toISOString();
  }
  return text;
}

/** A create or update input from the form, with only the fields that input accepts. */
export function inputOf(
  fields: FieldMeta[],
  drafts: Draft,
  creating: boolean,
  before?: Draft,
): Row {
  const input: Row = {};
  for (const f of fields) {
    const draft = drafts[f.name];
    if (draft === undefined) continue;
    // An update sends what changed.
    if (!creating && before !== undefined && before[f.name] === draft) continue;
    const value = fromDraft(f, draft, creating);
    if (value !== undefined) input[f.name] = value;
  }
  return input;
}

/** Reads a file as base64 (a Bytes field's upload). */
export async function fileToBase64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** One CSV line (RFC 4180 quoting). */
export function csvLine(cells: unknown[]): string {
  return cells
    .map((c) => {
      const s =
        c === null || c === undefined ? "" : typeof c === "object" ? JSON.stringify(c) : String(c);
      return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    })
    .join(",");
}
