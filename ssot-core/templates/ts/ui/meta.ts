// What the admin UI knows of the schema: app/admin/_models/models.json, typed.
import type { ReactNode } from "react";
import models from "../_models/models.json" with { type: "json" };

/**
 * A plugin's view of a field on a row's page (`app/admin/_ui/widgets.ts`): the row's id as the
 * SDK takes it, the field's value, and whether the caller may write the field of this row.
 */
export type FieldWidget = (props: { id: unknown; value: unknown; writable: boolean }) => ReactNode;

export interface FieldMeta {
  name: string;
  label: string;
  /** A scalar type (`String`, `Int`, `DateTime`, ...) or the enum's name. */
  type: string;
  kind: "scalar" | "enum" | "object";
  list: boolean;
  nullable: boolean;
  id: boolean;
  /** Sent in responses (not `@writeOnly` or `@hidden`). */
  output: boolean;
  /** `@readable(...)`: present only for the principals the rule lets read it. */
  masked: boolean;
  create: boolean;
  createOptional: boolean;
  update: boolean;
  readOnly: boolean;
  /** Usable in `filter[...]` and `orderBy`. */
  filter: boolean;
  default: string | null;
  values: string[] | null;
  /** A foreign key: links to the row of `model` whose `field` it holds. */
  link: { model: string; field: string } | null;
  doc: string | null;
}

export interface RelationMeta {
  name: string;
  label: string;
  model: string;
  many: boolean;
  fields: string[];
  /** For a to-many relation: the target's foreign key that names this row. */
  by: string | null;
}

export interface ModelMeta {
  name: string;
  label: string;
  /** The SDK's and the hooks' key (`client.post`, `["post", ...]`). */
  key: string;
  /** The URL segment, under /api/ and /admin/. */
  path: string;
  view: boolean;
  writable: boolean;
  live: boolean;
  doc: string | null;
  id: { name: string; type: string }[];
  /** The field that names a row in links and pickers. */
  title: string | null;
  /** A text field the relation pickers search with `contains`. */
  searchField: string | null;
  fields: FieldMeta[];
  relations: RelationMeta[];
}

export const MODELS = models as Record<string, ModelMeta>;

export function modelMeta(name: string): ModelMeta {
  const meta = MODELS[name];
  if (meta === undefined) throw new Error(`no model ${name} in the admin`);
  return meta;
}

/** A row as the API sends it. */
export type Row = Record<string, unknown>;

/** How the UI authenticates to the API. */
export interface Credentials {
  token?: string;
  apiKey?: string;
}

/** The list's state, kept in the URL. */
export interface ListState {
  take: number;
  cursor?: string;
  orderBy: string[];
  /** field -> op -> value */
  where: Record<string, Record<string, string>>;
  hidden: string[];
}

export const PAGE_SIZES = [10, 20, 50, 100];

type Search = Record<string, string | string[] | undefined>;

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** `?take=20&cursor=..&sort=-id,title&f.title.contains=x&hide=body` */
export function parseListState(meta: ModelMeta, search: Search): ListState {
  const take = Number(first(search.take));
  const where: ListState["where"] = {};
  for (const [key, value] of Object.entries(search)) {
    const m = /^f\.([^.]+)\.([A-Za-z]+)$/.exec(key);
    const v = first(value);
    if (m === null || v === undefined || v === "") continue;
    const field = meta.fields.find((f) => f.name === m[1] && f.filter);
    if (field === undefined) continue;
    (where[field.name] ??= {})[m[2] ?? "equals"] = v;
  }
  const sortable = new Set(meta.fields.filter((f) => f.filter).map((f) => f.name));
  const orderBy = (first(search.sort) ?? "")
    .split(",")
    .filter((s) => sortable.has(s.replace(/^-/, "")));
  return {
    take: PAGE_SIZES.includes(take) ? take : 20,
    cursor: first(search.cursor) || undefined,
    orderBy,
    where,
    hidden: (first(search.hide) ?? "").split(",").filter(Boolean),
  };
}

/** The URL query of a list state (what parseListState reads back). */
export function listQuery(state: ListState): string {
  const q = new URLSearchParams();
  if (state.take !== 20) q.set("take", String(state.take));
  if (state.cursor) q.set("cursor", state.cursor);
  if (state.orderBy.length > 0) q.set("sort", state.orderBy.join(","));
  for (const [field, ops] of Object.entries(state.where)) {
    for (const [op, value] of Object.entries(ops)) q.set(`f.${field}.${op}`, value);
  }
  if (state.hidden.length > 0) q.set("hide", state.hidden.join(","));
  const s = q.toString();
  return s === "" ? "" : `?${s}`;
}

/** The SDK's list parameters of a list state: the same object on the server and in the browser. */
export function listParams(state: ListState) {
  return {
    take: state.take,
    cursor: state.cursor,
    orderBy: state.orderBy.length > 0 ? state.orderBy : undefined,
    where: Object.keys(state.where).length > 0 ? state.where : undefined,
  };
}

export type ListParamsOf = ReturnType<typeof listParams>;

/** The id of a row from the URL's segments (`/admin/posts/5`, compound: `/admin/x/1/a`). */
export function idFromSegments(meta: ModelMeta, segments: string[]): unknown {
  const parts = meta.id.map((f, i) => {
    const raw = decodeURIComponent(segments[i] ?? "");
    return [f.name, f.type === "Int" || f.type === "Float" ? Number(raw) : raw] as const;
  });
  if (parts.length === 1) return parts[0]?.[1];
  return Object.fromEntries(parts);
}

/** The URL segments of a row's id. */
export function idSegments(meta: ModelMeta, row: Row): string {
  return meta.id.map((f) => encodeURIComponent(String(row[f.name]))).join("/");
}

/** The id of a row, as the SDK takes it. */
export function idOf(meta: ModelMeta, row: Row): unknown {
  if (meta.id.length === 1) return row[meta.id[0]?.name ?? ""];
  return Object.fromEntries(meta.id.map((f) => [f.name, row[f.name]]));
}

/**
 * Where a foreign key's value leads: the row page when it holds the target's id, else the target's
 * list filtered by the referenced field (a key may reference another unique field).
 */
export function linkHref(link: { model: string; field: string }, value: unknown): string {
  const target = MODELS[link.model];
  const v = encodeURIComponent(String(value));
  if (target === undefined) return "/admin";
  const byId = target.id.length === 1 && target.id[0]?.name === link.field;
  return byId
    ? `/admin/${target.path}/${v}`
    : `/admin/${target.path}?f.${encodeURIComponent(link.field)}.equals=${v}`;
}

/** What names a row in links: its title field, else its id. */
export function rowTitle(meta: ModelMeta, row: Row): string {
  const t = meta.title === null ? undefined : row[meta.title];
  if (t !== undefined && t !== null && t !== "") return String(t);
  return meta.id.map((f) => String(row[f.name])).join(" / ");
}
