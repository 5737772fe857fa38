// A model's generated hooks and Zod schemas, bound for the generic views. The views work on rows
// as JSON objects; the binding is where the model's own types meet them.
import type { UseMutationResult, UseQueryResult } from "@tanstack/react-query";
import type { z } from "zod";
import type { DataClient, ListResult, Permissions } from "../../../src/sdk/index.js";
import { idFromSegments, modelMeta, type ListParamsOf, type ModelMeta, type Row } from "./meta.js";

type Hook = (...args: never[]) => unknown;

/** What a model's module hands over: its hooks (`usePostList`, ...) and input schemas. */
export interface Hooks {
  useList: Hook;
  usePermissions: Hook;
  useOne?: Hook;
  useCreate?: Hook;
  useUpdate?: Hook;
  useDelete?: Hook;
  useSubscription?: Hook;
  createSchema?: z.ZodType;
  updateSchema?: z.ZodType;
}

export interface AdminModel {
  meta: ModelMeta;
  useList: (params: ListParamsOf) => UseQueryResult<ListResult<Row>>;
  /** What the caller may do: with the model (no id) or with one row (the API answers both). */
  usePermissions: (id?: unknown) => UseQueryResult<Permissions>;
  useOne: ((id: unknown) => UseQueryResult<Row>) | null;
  useCreate: (() => UseMutationResult<Row, Error, Row>) | null;
  useUpdate: (() => UseMutationResult<Row, Error, { id: unknown; input: Row }>) | null;
  useDelete: (() => UseMutationResult<void, Error, unknown>) | null;
  useSubscription: (() => void) | null;
  createSchema: z.ZodType | null;
  updateSchema: z.ZodType | null;
}

function erase<F>(hook: Hook | undefined): F | null {
  return hook === undefined ? null : (hook as unknown as F);
}

export function bindModel(name: string, hooks: Hooks): AdminModel {
  return {
    meta: modelMeta(name),
    useList: hooks.useList as unknown as AdminModel["useList"],
    usePermissions: hooks.usePermissions as unknown as AdminModel["usePermissions"],
    useOne: erase(hooks.useOne),
    useCreate: erase(hooks.useCreate),
    useUpdate: erase(hooks.useUpdate),
    useDelete: erase(hooks.useDelete),
    useSubscription: erase(hooks.useSubscription),
    createSchema: hooks.createSchema ?? null,
    updateSchema: hooks.updateSchema ?? null,
  };
}

/** The row of a record page (`/admin/<path>/<id...>`): its id and the model's `useOne` query. */
export function useRecord(model: AdminModel, segments: string[]) {
  const id = idFromSegments(model.meta, segments);
  if (model.useOne === null) throw new Error(`${model.meta.name} has no single-row route`);
  return { id, query: model.useOne(id) };
}

/** The SDK client of any model, for views that reach other models (sub-lists, pickers, CSV). */
export interface AnyClient {
  list(params?: object): Promise<ListResult<Row>>;
  count(where?: object): Promise<number>;
  get?(id: unknown, include?: string[]): Promise<Row>;
  delete?(id: unknown): Promise<void>;
}

export function clientFor(client: DataClient, key: string): AnyClient {
  const found = (client as unknown as Record<string, AnyClient | undefined>)[key];
  if (found === undefined) throw new Error(`the SDK has no client ${key}`);
  return found;
}
