// Query keys and what a realtime event does to the cache. Keys: `[channel, "list", params]`,
// `[channel, "count", where]`, `[channel, "one", id, include]`.

import type { QueryClient } from "@tanstack/react-query";

interface Page<T> {
  data: T[];
  meta: { total: number; nextCursor: string | null };
}

export interface CacheEvent<T> {
  event: "created" | "updated" | "deleted";
  data: T;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Applies a realtime event: an updated row replaces its cached copies (single and in lists), a
 * deleted one leaves them, a created one refetches the lists it may belong to; counts and the
 * row's permissions refetch (a change can move the row in or out of what the caller may do).
 */
export function applyEvent<T extends object>(
  qc: QueryClient,
  channel: string,
  idOf: (row: T) => unknown,
  e: CacheEvent<T>,
): void {
  const id = idOf(e.data);
  const one = [channel, "one", id];
  if (e.event === "deleted") qc.removeQueries({ queryKey: one });
  if (e.event === "updated") {
    qc.setQueriesData<T>({ queryKey: one }, (old) =>
      old === undefined ? old : { ...old, ...e.data },
    );
  }
  qc.setQueriesData<Page<T>>({ queryKey: [channel, "list"] }, (old) => {
    if (old === undefined) return old;
    if (e.event === "updated") {
      return { ...old, data: old.data.map((r) => (same(idOf(r), id) ? { ...r, ...e.data } : r)) };
    }
    if (e.event === "deleted") return { ...old, data: old.data.filter((r) => !same(idOf(r), id)) };
    return old;
  });
  if (e.event !== "updated") void qc.invalidateQueries({ queryKey: [channel, "list"] });
  void qc.invalidateQueries({ queryKey: [channel, "count"] });
  void qc.invalidateQueries({ queryKey: [channel, "permissions", id] });
}

/** Events may have been missed (a reconnect): every cached query of the channel refetches. */
export function resync(qc: QueryClient, channel: string): void {
  void qc.invalidateQueries({ queryKey: [channel] });
}
