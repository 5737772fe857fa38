"use client";

// One TanStack Query cache and one SDK client per browser tab.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { SsotProvider } from "../../../src/hooks/index.js";
import { createClient } from "../_models/_sdk.js";
import type { Credentials } from "./meta.js";

export function Providers(props: {
  apiUrl: string;
  credentials: Credentials;
  children: ReactNode;
}) {
  const [queryClient] = useState(
    () => new QueryClient({ defaultOptions: { queries: { staleTime: 10_000, retry: false } } }),
  );
  const [client] = useState(() => createClient(props.apiUrl, props.credentials));
  return (
    <QueryClientProvider client={queryClient}>
      <SsotProvider client={client}>{props.children}</SsotProvider>
    </QueryClientProvider>
  );
}
