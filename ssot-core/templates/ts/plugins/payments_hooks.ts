// The payments plugin's hooks (docs/plugins.md#payments).

import { useMutation } from "@tanstack/react-query";
import type { Price } from "../../sdk/index.js";
import { startCheckout } from "../../sdk/index.js";
import { useDataClient } from "../context.js";

/**
 * Starts a Stripe Checkout for the signed-in caller (`startCheckout`); on success, send the
 * browser to the session's `url`.
 */
export function useStartCheckout() {
  const client = useDataClient();
  return useMutation({
    mutationFn: (input: { price: Price; quantity?: number }) =>
      startCheckout(client.transport, input),
  });
}
