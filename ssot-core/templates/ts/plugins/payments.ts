// The payments plugin (`[plugins.payments]` in ssot.toml): Stripe Checkout for the signed-in
// caller, and the webhook Stripe sends its events to.
//
// An event counts only when its `Stripe-Signature` header verifies, with STRIPE_WEBHOOK_SECRET,
// against the body exactly as it arrived, and was signed less than 300 s ago. Its id is then
// inserted into the events model (the id is the primary key) in the same transaction as the
// work of its handler (`./payment_handlers.ts`): a redelivered event finds its id and is
// answered 200 without running again; two deliveries at once meet at the key and one of them
// wins. Stripe does not promise order: an event older than one already handled for the same
// object (`data.object.id`) is recorded and not handled. Neither the body, the signature nor the
// secrets are logged.

import Stripe from "stripe";
import type { AuthMethod } from "../../policies/index.js";
import { HttpError, toHttpError } from "../errors.js";
import type { ApiRequest, ApiResponse, Services } from "../http.js";
import type { Logger } from "../logger.js";
import type { ServerPlugin } from "../plugin.js";
import { handlers } from "./payment_handlers.js";

export interface HandlerContext {
  /**
   * The Prisma transaction that records the event: cast it to the generated client's type
   * (`PrismaClient` from `../../generated/prisma/client.js`).
   */
  db: unknown;
}

/** A handler per event type (`./payment_handlers.ts`), each given the event of that type. */
export type Handlers = {
  [T in Stripe.Event.Type]?: (
    event: Extract<Stripe.Event, { type: T }>,
    cx: HandlerContext,
  ) => Promise<void> | void;
};

export interface Options {
  /** The routes' prefix (`/api/payments`). */
  path: string;
  /** The Prisma delegate of the events model (`paymentEvent`). */
  events: string;
  /** The price ids a caller may check out. */
  prices: string[];
  mode: "payment" | "subscription";
  successUrl: string;
  cancelUrl: string;
  /** How a caller of the checkout route signs in (`[auth] default`). */
  auth: AuthMethod[];
}

/** Verified events older than this are refused (Stripe's own default). */
const TOLERANCE_SECONDS = 300;

interface EventRow {
  id: string;
  type: string;
  object: string;
  created: Date;
}

interface Events {
  findUnique(args: { where: { id: string } }): Promise<EventRow | null>;
  findFirst(args: {
    where: { object: string; created: { gt: Date } };
    select: { id: true };
  }): Promise<{ id: string } | null>;
  create(args: { data: EventRow }): Promise<EventRow>;
}

interface Client {
  $transaction<T>(fn: (tx: unknown) => Promise<T>): Promise<T>;
}

function eventsOf(db: unknown, delegate: string): Events {
  const d = (db as Record<string, Events | undefined>)[delegate];
  if (d === undefined) throw new Error(`payments: the Prisma client has no model ${delegate}`);
  return d;
}

/** Stripe's client, on STRIPE_API_URL when it is set (a proxy or a local stand-in). */
function client(key: string): Stripe {
  const base = process.env.STRIPE_API_URL ?? "";
  if (base === "") return new Stripe(key, { maxNetworkRetries: 2 });
  const url = new URL(base);
  return new Stripe(key, {
    maxNetworkRetries: 2,
    host: url.hostname,
    port: url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port),
    protocol: url.protocol === "https:" ? "https" : "http",
  });
}

function header(req: ApiRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** What the checkout route accepts: `{ price, quantity? }`. */
function checkoutInput(
  body: unknown,
  prices: readonly string[],
): { price: string; quantity: number } {
  const errors: { path: string; message: string }[] = [];
  const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const price = b.price;
  const quantity = b.quantity ?? 1;
  if (typeof price !== "string" || !prices.includes(price))
    errors.push({ path: "price", message: `must be one of ${prices.join(", ")}` });
  if (typeof quantity !== "number" || !Number.isInteger(quantity) || quantity < 1 || quantity > 100)
    errors.push({ path: "quantity", message: "must be a whole number from 1 to 100" });
  for (const key of Object.keys(b)) {
    if (key !== "price" && key !== "quantity")
      errors.push({ path: key, message: "is not a field of a checkout" });
  }
  if (errors.length > 0) throw new HttpError(400, "The checkout is not valid.", errors);
  return { price: price as string, quantity: quantity as number };
}

export function create(options: Options): ServerPlugin {
  const secretKey = process.env.STRIPE_SECRET_KEY ?? "";
  const webhookSecret = process.env.STRIPE_WEBHOOK_SECRET ?? "";
  const stripe = client(secretKey === "" ? "sk_unset" : secretKey);
  let db: unknown = null;
  let log: Logger | null = null;

  async function checkout(s: Services, req: ApiRequest): Promise<ApiResponse> {
    const auth = await s.auth.authenticate(req.headers, options.auth);
    if (auth === null)
      throw new HttpError(401, "Sign in to check out.", undefined, {
        "www-authenticate": "Bearer",
      });
    const { price, quantity } = checkoutInput(req.body, options.prices);
    if (secretKey === "") throw new HttpError(503, "Payments are not set up (STRIPE_SECRET_KEY).");
    const principal = String(auth.id);
    let session: Stripe.Checkout.Session;
    try {
      session = await stripe.checkout.sessions.create({
        mode: options.mode,
        line_items: [{ price, quantity }],
        success_url: options.successUrl,
        cancel_url: options.cancelUrl,
        client_reference_id: principal,
        metadata: { principal },
      });
    } catch (err) {
      const { type, code, statusCode } = err as {
        type?: string;
        code?: string;
        statusCode?: number;
      };
      log?.error({ stripe: { type, code, statusCode } }, "payments: checkout session not created");
      throw new HttpError(502, "The payment provider did not create the checkout.");
    }
    return { status: 201, body: { id: session.id, url: session.url }, principal };
  }

  async function webhook(_s: Services, req: ApiRequest): Promise<ApiResponse> {
    const signature = header(req, "stripe-signature");
    if (webhookSecret === "")
      throw new HttpError(503, "Payments are not set up (STRIPE_WEBHOOK_SECRET).");
    if (signature === undefined || req.rawBody === undefined)
      throw new HttpError(400, "The event has no Stripe-Signature or no body.");
    let event: Stripe.Event;
    try {
      event = stripe.webhooks.constructEvent(
        req.rawBody,
        signature,
        webhookSecret,
        TOLERANCE_SECONDS,
      );
    } catch {
      throw new HttpError(
        400,
        "The event's signature does not verify (or it is older than 300 s).",
      );
    }
    const object = (event.data.object as { id?: unknown }).id;
    const row: EventRow = {
      id: event.id,
      type: event.type,
      object: typeof object === "string" ? object : "",
      created: new Date(event.created * 1000),
    };
    const outcome = async (): Promise<"handled" | "duplicate" | "superseded"> =>
      (db as Client).$transaction(async (tx) => {
        const events = eventsOf(tx, options.events);
        if ((await events.findUnique({ where: { id: row.id } })) !== null) return "duplicate";
        const newer =
          row.object === ""
            ? null
            : await events.findFirst({
                where: { object: row.object, created: { gt: row.created } },
                select: { id: true },
              });
        await events.create({ data: row });
        if (newer !== null) return "superseded";
        const handler = (
          handlers as Record<string, ((e: Stripe.Event, cx: HandlerContext) => unknown) | undefined>
        )[event.type];
        await handler?.(event, { db: tx });
        return "handled";
      });
    let result: "handled" | "duplicate" | "superseded";
    try {
      result = await outcome();
    } catch (err) {
      // A delivery of the same event that committed first: the key refused this one.
      const clash = toHttpError(err).error.status === 409;
      if (
        clash &&
        (await eventsOf(db, options.events).findUnique({ where: { id: row.id } })) !== null
      ) {
        result = "duplicate";
      } else {
        log?.error({ err, event: { id: row.id, type: row.type } }, "payments: event not handled");
        throw new HttpError(500, "The event was not handled; Stripe will deliver it again.");
      }
    }
    log?.info({ event: { id: row.id, type: row.type }, result }, "payments: event");
    return { status: 200, body: { received: true, result } };
  }

  return {
    name: "payments",
    routes: [
      { method: "POST", path: `${options.path}/checkout`, handler: checkout },
      { method: "POST", path: `${options.path}/webhook`, handler: webhook },
    ],
    start: (cx) => {
      db = cx.db;
      log = cx.log;
      if (secretKey === "") cx.log.warn("payments: no STRIPE_SECRET_KEY: checkouts are refused");
      if (webhookSecret === "")
        cx.log.warn("payments: no STRIPE_WEBHOOK_SECRET: every event is refused");
    },
  };
}
