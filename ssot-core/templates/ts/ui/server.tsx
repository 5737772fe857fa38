// The pages: server components that fetch the first data with the principal's credentials and
// hand it to the browser's TanStack Query cache, where the views pick it up.
import { dehydrate, HydrationBoundary, QueryClient } from "@tanstack/react-query";
import { notFound } from "next/navigation.js";
import type { ComponentType } from "react";
import type { DataClient } from "../../../src/sdk/index.js";
import { createClient } from "../_models/_sdk.js";
import { idFromSegments, listParams, modelMeta, parseListState } from "./meta.js";
import { clientFor } from "./model.js";
import { credentials, serverApiUrl } from "./session.js";

type Search = Promise<Record<string, string | string[] | undefined>>;

async function prefetched(fill: (qc: QueryClient, client: DataClient) => Promise<void>) {
  const qc = new QueryClient();
  // A failed query is not sent along: the browser asks again and shows the error.
  await fill(qc, createClient(serverApiUrl(), await credentials()));
  return dehydrate(qc);
}

export function listPage(name: string, List: ComponentType) {
  const meta = modelMeta(name);
  return async function Page(props: { searchParams: Search }) {
    const params = listParams(parseListState(meta, await props.searchParams));
    const state = await prefetched((qc, client) =>
      qc.prefetchQuery({
        queryKey: [meta.key, "list", params],
        queryFn: () => clientFor(client, meta.key).list(params),
      }),
    );
    return (
      <HydrationBoundary state={state}>
        <List />
      </HydrationBoundary>
    );
  };
}

/** `/admin/<path>/<id...>` shows a row, `/admin/<path>/<id...>/edit` edits it. */
export function recordPage(
  name: string,
  Detail: ComponentType<{ id: string[] }>,
  Edit: ComponentType<{ id: string[] }>,
) {
  const meta = modelMeta(name);
  return async function Page(props: { params: Promise<{ id: string[] }> }) {
    const segments = (await props.params).id;
    const edit = segments.length === meta.id.length + 1 && segments.at(-1) === "edit";
    const ids = edit ? segments.slice(0, -1) : segments;
    if (ids.length !== meta.id.length) notFound();
    const id = idFromSegments(meta, ids);
    const state = await prefetched(async (qc, client) => {
      const get = clientFor(client, meta.key).get;
      if (get === undefined) return;
      await qc.prefetchQuery({
        queryKey: [meta.key, "one", id, []],
        queryFn: () => get.call(clientFor(client, meta.key), id, []),
      });
    });
    return (
      <HydrationBoundary state={state}>
        {edit ? <Edit id={ids} /> : <Detail id={ids} />}
      </HydrationBoundary>
    );
  };
}

export function createPage(name: string, Create: ComponentType) {
  modelMeta(name);
  return function Page() {
    return <Create />;
  };
}
