// The client the hooks use, from React context: `<SsotProvider client={createHybridClient(...)}>`
// inside a TanStack Query `QueryClientProvider`. Nothing here touches `window` (SSR-safe).

import { createContext, createElement, useContext } from "react";
import type { ReactElement, ReactNode } from "react";
import type { DataClient } from "../sdk/index.js";

const Context = createContext<DataClient | null>(null);

export function SsotProvider(props: { client: DataClient; children?: ReactNode }): ReactElement {
  return createElement(Context.Provider, { value: props.client }, props.children);
}

/** The client of the nearest `SsotProvider`. */
export function useDataClient(): DataClient {
  const client = useContext(Context);
  if (client === null) throw new Error("wrap the components in <SsotProvider client={...}>");
  return client;
}
