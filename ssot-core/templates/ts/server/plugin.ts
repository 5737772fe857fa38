// What a plugin of the server can hook into: the writes of each model (before and after, inside
// the write's transaction, and after it committed), routes of its own, every finished request,
// WebSocket connections, startup and shutdown. The built-in plugins enabled in ssot.toml and your
// own (`custom.ts`) are listed in `plugins.ts` and run in that order.

import type { Auth } from "../policies/index.js";
import type { Principal } from "./claims.js";
import type { ServerConfig } from "./config.js";
import type { ApiRequest, ApiResponse, Method, Services } from "./http.js";
import type { Logger } from "./logger.js";

/** A row or an input as the wire format writes it (field name → value). */
export type Data = Record<string, unknown>;

/** The caller, with the claims of `[auth.claims]` (null: anonymous). */
export type Caller = Principal | null;

export interface WriteContext {
  /** The model's name as the schema writes it (`Post`). */
  model: string;
  auth: Caller;
  /**
   * The Prisma transaction of the write: what a hook writes through it commits or rolls back
   * with the write. Cast it to the generated Prisma client's transaction type to use it.
   */
  db: unknown;
}

/** A write that committed. */
export interface Committed {
  model: string;
  operation: "create" | "update" | "delete";
  /** The row's id values, in the order of the model's id fields. */
  id: unknown[];
  /** The row as stored (for a delete: as it was), every field as Prisma returns it. */
  row: Data;
  auth: Caller;
}

/**
 * Hooks of one model. `before*` run inside the transaction before the write and may refuse it
 * by throwing an `HttpError` (`./errors.js`); `beforeCreate`/`beforeUpdate` may return a changed
 * input (it is not validated again) or nothing. `after*` run inside the transaction after the write and its
 * policy checks: throwing rolls the write back. `committed` runs once the write is durable, for
 * side effects (mail, metrics); what it throws is logged, not returned to the caller.
 */
export interface ModelHooks {
  beforeCreate?(cx: WriteContext, input: Data): Promise<Data | undefined> | Data | undefined;
  afterCreate?(cx: WriteContext, row: Data): Promise<void> | void;
  beforeUpdate?(
    cx: WriteContext,
    id: unknown[],
    input: Data,
  ): Promise<Data | undefined> | Data | undefined;
  afterUpdate?(cx: WriteContext, row: Data): Promise<void> | void;
  beforeDelete?(cx: WriteContext, id: unknown[]): Promise<void> | void;
  afterDelete?(cx: WriteContext, row: Data): Promise<void> | void;
  committed?(e: Committed): Promise<void> | void;
}

/** A route of a plugin: no authentication or rate limit of its own (see `Services.auth`). */
export interface PluginRoute {
  method: Method;
  /** Express/Fastify path syntax. */
  path: string;
  handler(s: Services, req: ApiRequest): Promise<ApiResponse>;
}

/** A request about to be handled: what a plugin's `around` may see of it. */
export interface RequestStart {
  method: string;
  /** The route's pattern (`/api/posts/:id`), never the path requested. */
  route: string;
  headers: ApiRequest["headers"];
}

/** A finished HTTP request, as the request log records it. */
export interface RequestInfo {
  method: string;
  /** The route's pattern (`GET /api/posts/:id`), or `unmatched`. */
  route: string;
  status: number;
  durationMs: number;
}

export interface PluginContext {
  services: Services;
  /** The Prisma client: cast it to the generated client's type (`PrismaClient`) to use it. */
  db: unknown;
  config: ServerConfig;
  log: Logger;
}

/**
 * A model's full-text index (the search plugin): the ids of the rows whose text matches `q`, best
 * first, at most `limit`. The engine keeps those the caller may read.
 */
export interface FullText {
  match(q: string, limit: number): Promise<unknown[]>;
}

export interface ServerPlugin {
  name: string;
  /** Hooks by model name; `"*"` applies to every model. */
  models?: Record<string, ModelHooks>;
  /** Full-text indexes by model name: `GET /api/<models>/search` ranks with them. */
  search?: Record<string, FullText>;
  /** Routes, matched before the models' routes. */
  routes?: PluginRoute[];
  /**
   * Runs the handling of a matched request (authentication, rate limit, handler) inside work of
   * the plugin's, such as a trace span: calls `handle` once and returns its response.
   */
  around?(request: RequestStart, handle: () => Promise<ApiResponse>): Promise<ApiResponse>;
  /** Called after every response has been sent. Must not throw. */
  request?(info: RequestInfo): void;
  /** A WebSocket connection opened (1) or closed (-1). */
  socket?(delta: 1 | -1): void;
  /** At startup, before the server listens. */
  start?(cx: PluginContext): Promise<void> | void;
  /** At shutdown, after the server stopped listening. */
  stop?(): Promise<void> | void;
}

/** The caller as hooks see it: every principal was parsed by `PrincipalSchema` (`./auth.ts`). */
export function caller(auth: Auth): Caller {
  return auth as Caller;
}

/** The plugins of a server, in order. */
export class Plugins {
  private readonly byModel = new Map<string, ModelHooks[]>();
  /** The plugins' `around`s, innermost first: found once, not on every request. */
  private readonly arounds: NonNullable<ServerPlugin["around"]>[];

  constructor(
    readonly list: readonly ServerPlugin[],
    private readonly log: Pick<Logger, "error"> = { error: () => undefined },
  ) {
    this.arounds = list
      .flatMap((p) => (p.around !== undefined ? [p.around.bind(p)] : []))
      .reverse();
  }

  /** The hooks that apply to `model`, in plugin order. */
  hooks(model: string): ModelHooks[] {
    let hooks = this.byModel.get(model);
    if (hooks === undefined) {
      hooks = [];
      for (const p of this.list) {
        const all = p.models?.["*"];
        const own = p.models?.[model];
        if (all !== undefined) hooks.push(all);
        if (own !== undefined) hooks.push(own);
      }
      this.byModel.set(model, hooks);
    }
    return hooks;
  }

  async beforeCreate(cx: WriteContext, input: Data): Promise<Data> {
    let data = input;
    for (const h of this.hooks(cx.model)) data = (await h.beforeCreate?.(cx, data)) ?? data;
    return data;
  }

  async beforeUpdate(cx: WriteContext, id: unknown[], input: Data): Promise<Data> {
    let data = input;
    for (const h of this.hooks(cx.model)) data = (await h.beforeUpdate?.(cx, id, data)) ?? data;
    return data;
  }

  async afterCreate(cx: WriteContext, row: Data): Promise<void> {
    for (const h of this.hooks(cx.model)) await h.afterCreate?.(cx, row);
  }

  async afterUpdate(cx: WriteContext, row: Data): Promise<void> {
    for (const h of this.hooks(cx.model)) await h.afterUpdate?.(cx, row);
  }

  async beforeDelete(cx: WriteContext, id: unknown[]): Promise<void> {
    for (const h of this.hooks(cx.model)) await h.beforeDelete?.(cx, id);
  }

  async afterDelete(cx: WriteContext, row: Data): Promise<void> {
    for (const h of this.hooks(cx.model)) await h.afterDelete?.(cx, row);
  }

  /** Runs the `committed` hooks; a failing one is logged and the others still run. */
  async committed(e: Committed): Promise<void> {
    for (const h of this.hooks(e.model)) {
      try {
        await h.committed?.(e);
      } catch (err) {
        this.log.error({ err, model: e.model, operation: e.operation }, "committed hook failed");
      }
    }
  }

  /** The first plugin's full-text index of `model`, if any. */
  fullText(model: string): FullText | undefined {
    for (const p of this.list) {
      const index = p.search?.[model];
      if (index !== undefined) return index;
    }
    return undefined;
  }

  routes(): PluginRoute[] {
    return this.list.flatMap((p) => p.routes ?? []);
  }

  /** Runs `handle` inside every plugin's `around`, the first plugin's outermost. */
  around(request: RequestStart, handle: () => Promise<ApiResponse>): Promise<ApiResponse> {
    let run = handle;
    for (const wrap of this.arounds) {
      const inner = run;
      run = () => wrap(request, inner);
    }
    return run();
  }

  request(info: RequestInfo): void {
    for (const p of this.list) {
      try {
        p.request?.(info);
      } catch (err) {
        this.log.error({ err, plugin: p.name }, "request hook failed");
      }
    }
  }

  socket(delta: 1 | -1): void {
    for (const p of this.list) p.socket?.(delta);
  }

  async start(cx: PluginContext): Promise<void> {
    for (const p of this.list) await p.start?.(cx);
  }

  /** Stops every plugin in reverse order, even when one fails. */
  async stop(): Promise<void> {
    for (const p of [...this.list].reverse()) {
      try {
        await p.stop?.();
      } catch (err) {
        this.log.error({ err, plugin: p.name }, "plugin stop failed");
      }
    }
  }
}
