// RFC 9457 problem details for every error, and the mapping of Prisma's errors to them. Nothing
// of a database message, stack or query reaches the client.

export interface FieldError {
  path: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  requestId: string;
  errors?: FieldError[];
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** An error with an HTTP status; its `detail` is safe to show to the caller. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = "HttpError";
  }
}

export function problem(
  status: number,
  detail: string,
  instance: string,
  requestId: string,
  errors?: FieldError[],
): Problem {
  const title = TITLES[status] ?? "Error";
  const p: Problem = {
    type: "about:blank",
    title,
    status,
    detail,
    instance,
    requestId,
  };
  if (errors !== undefined && errors.length > 0) p.errors = errors;
  return p;
}

interface PrismaKnownError {
  code: string;
  meta?: Record<string, unknown>;
}

function prismaCode(e: unknown): PrismaKnownError | null {
  if (typeof e !== "object" || e === null) return null;
  const code = (e as { code?: unknown }).code;
  const name = (e as { name?: unknown }).name;
  if (
    typeof code === "string" &&
    /^P\d{4}$/.test(code) &&
    name === "PrismaClientKnownRequestError"
  ) {
    return e as PrismaKnownError;
  }
  return null;
}

function databaseState(e: PrismaKnownError): string | null {
  const adapter = e.meta?.driverAdapterError;
  if (typeof adapter !== "object" || adapter === null) return null;
  const cause = (adapter as { cause?: { originalCode?: unknown } }).cause;
  const code = cause?.originalCode;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}

/** Codes of a database that is away: Prisma's, SQLSTATE's and the socket's. */
const UNAVAILABLE_CODE =
  /^(P100[128]|P1017|P2024|P2037|08\w{3}|57P0[123]|53300|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|EAI_AGAIN)$/;
/** What node-postgres says when a pooled connection died under a query. */
const UNAVAILABLE_MESSAGE =
  /Connection terminated|connection error and is not queryable|Client was closed and is not queryable|timeout exceeded when trying to connect/i;

/**
 * Whether `e` says the database cannot be reached (restarting, failed over, out of connections):
 * the error, its `cause` chain and the driver adapter's error Prisma wraps.
 */
export function databaseUnavailable(e: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [e];
  while (queue.length > 0 && seen.size < 16) {
    const x = queue.shift();
    if (typeof x !== "object" || x === null || seen.has(x)) continue;
    seen.add(x);
    const { code, message, cause, meta, originalCode, kind } = x as Record<string, unknown>;
    for (const c of [code, originalCode]) {
      if (typeof c === "string" && UNAVAILABLE_CODE.test(c)) return true;
    }
    if (
      kind === "DatabaseNotReachable" ||
      kind === "ConnectionClosed" ||
      kind === "SocketTimeout"
    ) {
      return true;
    }
    if (typeof message === "string" && UNAVAILABLE_MESSAGE.test(message)) return true;
    queue.push(cause, (meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError);
  }
  return false;
}

/**
 * The HTTP error for anything thrown while handling a request; `log` is true when the error is
 * unexpected (a 500) and must be logged with its stack.
 */
export function toHttpError(e: unknown): { error: HttpError; unexpected: boolean } {
  if (e instanceof HttpError) return { error: e, unexpected: false };
  // A database that is away (a restart, a failover): 503 with Retry-After, and the pool
  // reconnects by itself. The write did not commit.
  if (databaseUnavailable(e)) {
    return {
      error: new HttpError(
        503,
        "The database cannot be reached right now; retry shortly.",
        undefined,
        {
          "retry-after": "1",
        },
      ),
      unexpected: false,
    };
  }
  const known = prismaCode(e);
  // Errors the database raised (SQLSTATE through the driver adapter): class 22 is bad data
  // (such as a NUL character PostgreSQL cannot store), class 23 a violated constraint.
  const sqlState = known !== null ? databaseState(known) : null;
  if (sqlState?.startsWith("22") === true) {
    return {
      error: new HttpError(400, "A value cannot be stored by the database."),
      unexpected: false,
    };
  }
  if (sqlState?.startsWith("23") === true) {
    return {
      error: new HttpError(409, "The change conflicts with a constraint of the database."),
      unexpected: false,
    };
  }
  if (known !== null) {
    switch (known.code) {
      case "P2002":
        return {
          error: new HttpError(409, "A row with the same unique value already exists."),
          unexpected: false,
        };
      case "P2025":
      case "P2001":
      case "P2018":
        return { error: new HttpError(404, "The row does not exist."), unexpected: false };
      case "P2003":
      case "P2014":
        return {
          error: new HttpError(
            409,
            "The change conflicts with a related row (a reference is missing or still in use).",
          ),
          unexpected: false,
        };
      case "P2000":
      case "P2005":
      case "P2006":
      case "P2007":
      case "P2011":
      case "P2012":
      case "P2019":
      case "P2020":
      case "P2023":
        return {
          error: new HttpError(400, "A value does not fit the column it is stored in."),
          unexpected: false,
        };
      case "P2021":
      case "P2022":
        // A table or column of the schema is not in the database: migrations were not applied,
        // or a view was never created (`prisma db push` creates no views).
        return {
          error: new HttpError(
            503,
            "The database lacks a table or column of this model; apply the schema's migrations.",
          ),
          unexpected: true,
        };
      case "P2034":
        return {
          error: new HttpError(409, "The change conflicted with a concurrent change; retry it."),
          unexpected: false,
        };
    }
  }
  if (
    typeof e === "object" &&
    e !== null &&
    (e as { name?: unknown }).name === "PrismaClientValidationError"
  ) {
    return {
      error: new HttpError(400, "The request cannot be run against the database."),
      unexpected: true,
    };
  }
  return {
    error: new HttpError(500, "The server could not handle the request."),
    unexpected: true,
  };
}
