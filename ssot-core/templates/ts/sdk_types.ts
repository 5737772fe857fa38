// {{ header }}
// The transport-neutral client API: every transport (HTTP now, WebSocket later) serves it.

/** One HTTP-like request of the API of the generated server. */
export interface ApiRequest {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Path below the base URL, e.g. `/api/posts/1`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
}

/** Carries requests to the server and returns the parsed JSON body (`undefined` for 204). */
export interface Transport {
  request(req: ApiRequest): Promise<unknown>;
}

/** An error answer of the API, from its RFC 9457 problem+json body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string | undefined,
    readonly requestId: string | undefined,
    readonly errors: { path: string; message: string }[] = [],
  ) {
    super(detail ? `${status} ${title}: ${detail}` : `${status} ${title}`);
    this.name = "ApiError";
  }
}

/** Filter operators of `filter[field][op]=value`. */
export type FilterOp =
  "equals" | "not" | "in" | "lt" | "lte" | "gt" | "gte" | "contains" | "startsWith" | "endsWith";

/** Parameters of a list call. */
export interface ListParams<Where, Field extends string, Include extends string> {
  where?: Where;
  /** Fields to sort by; `-field` sorts descending. */
  orderBy?: (Field | `-${Field}`)[];
  take?: number;
  skip?: number;
  cursor?: string;
  include?: Include[];
}

/** A page of rows. */
export interface ListResult<T> {
  data: T[];
  meta: { total: number; nextCursor: string | null };
}

/** What the caller may do with a field: see it in responses, set it in an input. */
export interface FieldPermission {
  read: boolean;
  write: boolean;
}

/**
 * What the policies let the caller do. For the model: `false` is "for no row", `true` "the row
 * decides", and a field's `write` is about create inputs. For one row: every answer is for that
 * row, and `write` is about update inputs. The server still checks every write.
 */
export interface Permissions {
  read: boolean;
  create: boolean;
  update: boolean;
  delete: boolean;
  fields: Record<string, FieldPermission>;
}

/** What every per-model client offers (views: this only). */
export interface ReadClient<T, Where, Field extends string, Include extends string> {
  list(params?: ListParams<Where, Field, Include>): Promise<ListResult<T>>;
  count(where?: Where): Promise<number>;
  /** What the caller may do with this model's rows. */
  permissions(): Promise<Permissions>;
}

/** A client of a model with an id: reads and writes. */
export interface ModelClient<
  T,
  Create,
  Update,
  Where,
  Id,
  Field extends string,
  Include extends string,
> extends ReadClient<T, Where, Field, Include> {
  get(id: Id, include?: Include[]): Promise<T>;
  create(input: Create): Promise<T>;
  update(id: Id, input: Update): Promise<T>;
  delete(id: Id): Promise<void>;
  /** What the caller may do with the model, or with the row `id` names. */
  permissions(id?: Id): Promise<Permissions>;
}

/** Options shared by the per-model clients. */
export interface ClientOptions {
  /** Check every response with the generated Zod schemas (default: false). */
  validateResponses?: boolean;
}

/** Turns a `where` object into `filter[field][op]=value` query parameters. */
export function filterQuery(where: object | undefined): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [field, ops] of Object.entries(where ?? {})) {
    if (ops === undefined) continue;
    for (const [op, value] of Object.entries(ops as Record<string, unknown>)) {
      if (value === undefined) continue;
      query[`filter[${field}][${op}]`] = Array.isArray(value)
        ? value.map(String).join(",")
        : String(value);
    }
  }
  return query;
}
