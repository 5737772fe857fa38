// @vitest-environment jsdom
// The page in jsdom against the running Rust API (API_URL, signed with JWT_SECRET): tasks added
// through the generated hooks, the API's hook trimming and refusing titles, a task written
// elsewhere arriving live through the gateway, another owner's tasks absent, the API's own
// summary route.
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { createHmac } from "node:crypto";
import { afterEach, expect, it } from "vitest";
import { WebSocket } from "ws";

import { App } from "./App.js";

const API = process.env.API_URL ?? "http://127.0.0.1:3000";
const SECRET = process.env.JWT_SECRET ?? "";
const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
function token(sub: number): string {
  const unsigned = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub: String(sub), exp: Math.floor(Date.now() / 1000) + 600 })}`;
  return `${unsigned}.${createHmac("sha256", SECRET).update(unsigned).digest("base64url")}`;
}
async function api(method: string, path: string, tok: string, body?: unknown): Promise<Response> {
  return fetch(`${API}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${tok}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

afterEach(cleanup);

it("lists, adds, updates live and deletes the caller's tasks", async () => {
  const me = 1000 + Math.floor(Math.random() * 1_000_000);
  const mine = token(me);
  render(<App apiUrl={API} token={mine} WebSocket={WebSocket} />);
  await screen.findByRole("heading", { name: "Tasks" });
  const list = await screen.findByRole("list");
  await waitFor(() => expect(within(list).queryAllByRole("listitem")).toHaveLength(0));

  // Added through the hooks; the API's before-create hook trims the title.
  fireEvent.change(screen.getByLabelText("New task"), { target: { value: "  Buy milk  " } });
  fireEvent.click(screen.getByRole("button", { name: "Add" }));
  await within(list).findByText("Buy milk");

  // A blank title: the hook's field error, shown next to the field.
  fireEvent.change(screen.getByLabelText("New task"), { target: { value: "   " } });
  fireEvent.click(screen.getByRole("button", { name: "Add" }));
  expect((await screen.findByRole("alert")).textContent).toBe("must not be blank");

  // Written elsewhere (plain HTTP): it arrives through the gateway, without a reload.
  await new Promise((r) => setTimeout(r, 500));
  const other = await api("POST", "/api/tasks", mine, { title: "Written elsewhere", ownerId: me });
  expect(other.status).toBe(201);
  await within(list).findByText("Written elsewhere", {}, { timeout: 5000 });
  // Another owner's task is not ours to see.
  expect(
    (await api("POST", "/api/tasks", token(me + 1), { title: "Not mine", ownerId: me + 1 })).status,
  ).toBe(201);

  // Done through the hooks.
  const milk = within(list).getByText("Buy milk").closest("li");
  if (milk === null) throw new Error("no row for Buy milk");
  fireEvent.click(within(milk).getByRole("checkbox"));
  await waitFor(() =>
    expect((within(milk).getByRole("checkbox") as HTMLInputElement).checked).toBe(true),
  );
  const summary = await api("GET", "/api/summary", mine);
  expect(await summary.json()).toEqual({ open: 1, done: 1 });
  expect(within(list).queryByText("Not mine")).toBeNull();

  fireEvent.click(within(list).getByRole("button", { name: "Delete Buy milk" }));
  await waitFor(() => expect(within(list).queryByText("Buy milk")).toBeNull());
  expect(within(list).getAllByRole("listitem")).toHaveLength(1);
});

it("asks for a token first", async () => {
  render(<App apiUrl={API} token="" WebSocket={WebSocket} />);
  expect(await screen.findByRole("button", { name: "Sign in" })).toBeTruthy();
});
