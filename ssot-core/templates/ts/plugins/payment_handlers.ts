// What the server does with the Stripe events it receives (the payments plugin,
// docs/plugins.md#payments). This file is yours: ssot wrote it once and leaves it alone from now
// on. Each handler runs inside the transaction that records the event, so what it writes through
// `cx.db` commits with the record, or not at all (throwing makes Stripe deliver the event again).
// A handler runs once per event, never for an event older than one already handled for the same
// object. Events without a handler are recorded and answered 200.
//
// Example: mark an order as paid when its checkout completes (`Order` is a model of yours).
//
//   import type { PrismaClient } from "../../generated/prisma/client.js";
//   export const handlers: Handlers = {
//     "checkout.session.completed": async (event, cx) => {
//       const db = cx.db as PrismaClient;
//       await db.order.update({
//         where: { checkoutId: event.data.object.id },
//         data: { paid: true },
//       });
//     },
//   };

import type { Handlers } from "./payments.js";

export const handlers: Handlers = {};
