// {{ header }}
import { ApiError, type ApiRequest, type Transport } from "./types.js";

export interface HttpTransportOptions {
  /** Where the API is served, e.g. `https://api.example.com`. */
  baseUrl: string;
  /** Returns the bearer token (JWT) to send, if any; called before every request. */
  token?: () => string | undefined | Promise<string | undefined>;
  /** An API key sent as `x-api-key`. */
  apiKey?: string;
  /** Extra headers for every request. */
  headers?: Record<string, string>;
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof fetch;
}

/** Sends requests with `fetch`; works in browsers and Node 18+. */
export class HttpTransport implements Transport {
  constructor(private readonly options: HttpTransportOptions) {}

  async request(req: ApiRequest): Promise<unknown> {
    const url = new URL(req.path, this.options.baseUrl);
    for (const [key, value] of Object.entries(req.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = {
      accept: "application/json",
      ...this.options.headers,
    };
    const token = await this.options.token?.();
    if (token) headers.authorization = `Bearer ${token}`;
    if (this.options.apiKey) headers["x-api-key"] = this.options.apiKey;
    if (req.body !== undefined) headers["content-type"] = "application/json";
    const doFetch = this.options.fetch ?? fetch;
    const res = await doFetch(url, {
      method: req.method,
      headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
    });
    if (res.status === 204) return undefined;
    const text = await res.text();
    const body: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw toApiError(res, body);
    return body;
  }
}

function toApiError(res: Response, body: unknown): ApiError {
  const problem = (typeof body === "object" && body !== null ? body : {}) as {
    title?: unknown;
    detail?: unknown;
    requestId?: unknown;
    errors?: unknown;
  };
  const errors = Array.isArray(problem.errors)
    ? problem.errors.filter(
        (e): e is { path: string; message: string } =>
          typeof e === "object" &&
          e !== null &&
          typeof (e as { path?: unknown }).path === "string" &&
          typeof (e as { message?: unknown }).message === "string",
      )
    : [];
  return new ApiError(
    res.status,
    typeof problem.title === "string" ? problem.title : res.statusText,
    typeof problem.detail === "string" ? problem.detail : undefined,
    typeof problem.requestId === "string"
      ? problem.requestId
      : (res.headers.get("x-request-id") ?? undefined),
    errors,
  );
}
