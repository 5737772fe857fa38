// The tasks page: the generated SDK (one hybrid client: HTTP for calls, the WebSocket gateway
// for live updates) and the generated TanStack Query hooks, typed from schema.prisma.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import type { FormEvent, ReactElement } from "react";

import {
  SsotProvider,
  useCreateTask,
  useDeleteTask,
  useTaskList,
  useTaskSubscription,
  useUpdateTask,
} from "../generated/src/hooks/index.js";
import { ApiError, createHybridClient } from "../generated/src/sdk/index.js";
import type { WebSocketTransportOptions } from "../generated/src/sdk/index.js";

export interface AppProps {
  /** Where the API is served, e.g. `http://127.0.0.1:3000`. */
  apiUrl: string;
  /** A JWT of the API (the Rust API prints one in development); empty: ask for it. */
  token: string;
  /** A WebSocket class where there is no global one (Node). */
  WebSocket?: WebSocketTransportOptions["WebSocket"];
}

/** The `sub` (or `id`) of a JWT's payload: whose tasks these are. */
function ownerOf(token: string): number | null {
  try {
    const payload = token.split(".")[1] ?? "";
    const claims = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))) as {
      sub?: unknown;
      id?: unknown;
    };
    const id = Number(claims.id ?? claims.sub);
    return Number.isInteger(id) ? id : null;
  } catch {
    return null;
  }
}

export function App(props: AppProps): ReactElement {
  const [token, setToken] = useState(props.token);
  const owner = ownerOf(token);
  const queryClient = useMemo(() => new QueryClient(), []);
  const client = useMemo(
    () =>
      createHybridClient({
        baseUrl: props.apiUrl,
        token: () => token,
        realtime: { url: `${props.apiUrl.replace(/^http/, "ws")}/ws`, WebSocket: props.WebSocket },
      }),
    [props.apiUrl, props.WebSocket, token],
  );
  if (owner === null) return <SignIn onToken={setToken} />;
  return (
    <QueryClientProvider client={queryClient}>
      <SsotProvider client={client}>
        <Tasks owner={owner} />
      </SsotProvider>
    </QueryClientProvider>
  );
}

function SignIn(props: { onToken: (token: string) => void }): ReactElement {
  const [value, setValue] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    localStorage.setItem("token", value.trim());
    props.onToken(value.trim());
  };
  return (
    <form onSubmit={submit}>
      <label>
        Token <input value={value} onChange={(e) => setValue(e.target.value)} />
      </label>
      <button type="submit">Sign in</button>
    </form>
  );
}

function Tasks(props: { owner: number }): ReactElement {
  // Rows written elsewhere (another tab, another service) arrive through the gateway.
  useTaskSubscription({ ownerId: { equals: props.owner } });
  const list = useTaskList({ orderBy: ["createdAt", "id"] });
  const create = useCreateTask();
  const update = useUpdateTask();
  const remove = useDeleteTask();
  const [title, setTitle] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate({ title, ownerId: props.owner }, { onSuccess: () => setTitle("") });
  };
  // The API's field errors (the Rust hook's or the schema's rules) next to the field.
  const titleError =
    create.error instanceof ApiError
      ? (create.error.errors.find((f) => f.path === "title")?.message ?? create.error.title)
      : null;
  return (
    <main>
      <h1>Tasks</h1>
      <form onSubmit={submit}>
        <label>
          New task <input value={title} onChange={(e) => setTitle(e.target.value)} />
        </label>
        <button type="submit">Add</button>
        {titleError !== null && <p role="alert">{titleError}</p>}
      </form>
      {list.isError && <p role="alert">The tasks could not be loaded.</p>}
      <ul>
        {list.data?.data.map((task) => (
          <li key={task.id}>
            <label>
              <input
                type="checkbox"
                checked={task.done}
                onChange={() => update.mutate({ id: task.id, input: { done: !task.done } })}
              />
              {task.title}
            </label>
            <button
              type="button"
              onClick={() => remove.mutate(task.id)}
              aria-label={`Delete ${task.title}`}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
    </main>
  );
}
