// The blog's handlers of Stripe events, as a user writes them in the tree's
// src/server/plugins/payment_handlers.ts: server.sh copies this file into the blog trees (and
// generates again, which must keep it). plugins.e2e.test.ts sends the events, signed with the
// stripe package's test helper, and reads the `Subscription` rows they leave.

import type Stripe from "stripe";
import type { PrismaClient } from "../../generated/prisma/client.js";
import type { HandlerContext, Handlers } from "./payments.js";

function idOf(v: string | { id: string } | null): string | null {
  return typeof v === "string" ? v : (v?.id ?? null);
}

async function setStatus(cx: HandlerContext, sub: Stripe.Subscription): Promise<void> {
  const db = cx.db as PrismaClient;
  await db.subscription.updateMany({ where: { id: sub.id }, data: { status: sub.status } });
}

export const handlers: Handlers = {
  // The buyer (the checkout's client_reference_id, set by the checkout route) is a supporter.
  "checkout.session.completed": async (event, cx) => {
    const session = event.data.object;
    const id = idOf(session.subscription);
    const userId = Number(session.client_reference_id);
    if (id === null || !Number.isInteger(userId)) return;
    const db = cx.db as PrismaClient;
    await db.subscription.upsert({
      where: { id },
      create: { id, userId, status: "active" },
      update: { status: "active" },
    });
  },
  "customer.subscription.updated": (event, cx) => setStatus(cx, event.data.object),
  "customer.subscription.deleted": (event, cx) => setStatus(cx, event.data.object),
};
