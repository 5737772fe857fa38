// One meaning of every comparison in every transport: for every scalar type and every operator
// (the schema of typed-schema.mjs), rows below, equal to and above the principal's claim, and a
// null one, are created; the rows HTTP lists (the `read` policy compiled to SQL), the rows the
// WebSocket gateway sends (the same policy evaluated in memory on the event's row) and the
// fields both mask (`@readable`, in memory) must be exactly what an oracle written here says.
// BigInt values differ in the last digit past 2^53, so a comparison through doubles would fail.
// Run by server.sh against the generated server (API_URL) of that schema on PostgreSQL.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SignJWT } from "jose";
import { WebSocket } from "ws";
import { readFileSync } from "node:fs";
import { OP_NAMES, TYPES, maskModel, readModel } from "./typed-schema.mjs";

const API = process.env.API_URL ?? "http://127.0.0.1:3000";
const SECRET = new TextEncoder().encode(process.env.JWT_SECRET ?? "");

type Json = Record<string, unknown>;
type Type = keyof typeof TYPES;
type Op = keyof typeof OP_NAMES;

/** Values below, equal to and above the claim (Boolean has no third), in the wire format. */
const VALUES: Record<Type, unknown[]> = {
  Int: [1, 5, 9],
  BigInt: ["9007199254740992", "9007199254740993", "9007199254740994"],
  Float: [1.5, 2.5, 3.5],
  Decimal: ["1.5", "2.5", "3.5"],
  DateTime: ["2024-01-01T00:00:00.000Z", "2024-06-01T00:00:00.000Z", "2025-01-01T00:00:00.000Z"],
  String: ["apple", "mango", "zebra"],
  Boolean: [false, true],
  Enum: ["LOW", "MID", "HIGH"],
};

const claims: Json = {};
for (const t of Object.keys(TYPES) as Type[]) {
  const [lo, eq] = VALUES[t];
  claims[`x${t}`] = eq;
  claims[`l${t}`] = [lo, eq];
}

/** The comparison as the policy language defines it, computed here independently. */
function cmp(t: Type, a: unknown, b: unknown): number {
  const key = (v: unknown): number | bigint | string =>
    t === "BigInt" ? BigInt(v as string) : t === "Decimal" ? Number(v) : t === "DateTime" ? Date.parse(v as string) : t === "Boolean" ? Number(v) : (v as number | string);
  const x = key(a);
  const y = key(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function holds(t: Type, op: Op, v: unknown): boolean {
  // null compares like a value: only `!=` and `not in` hold against a non-null claim.
  if (v === null) return op === "!=" || op === "not in";
  const c = cmp(t, v, claims[`x${t}`]);
  const inList = (claims[`l${t}`] as unknown[]).some((l) => cmp(t, v, l) === 0);
  switch (op) {
    case "==":
      return c === 0;
    case "!=":
      return c !== 0;
    case "<":
      return c < 0;
    case "<=":
      return c <= 0;
    case ">":
      return c > 0;
    case ">=":
      return c >= 0;
    case "in":
      return inList;
    case "not in":
      return !inList;
  }
}

let token: string;
let schema: { models: Record<string, { path: string; delegate: string }> };
const created = new Map<string, { id: number; v: unknown }[]>();
const events = new Map<string, Json[]>();
let ws: WebSocket;

async function call(method: string, path: string, body?: unknown): Promise<Json> {
  const res = await fetch(API + path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as Json;
}

function models(): [string, Type, Op | null][] {
  const out: [string, Type, Op | null][] = [];
  for (const [t, spec] of Object.entries(TYPES) as [Type, { ops: Op[] }][]) {
    for (const op of spec.ops) out.push([readModel(t, op), t, op]);
    out.push([maskModel(t), t, null]);
  }
  return out;
}

before(async () => {
  token = await new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setExpirationTime("10m").sign(SECRET);
  schema = JSON.parse(readFileSync(`${process.env.TREE}/src/policies/schema.json`, "utf8"));
  ws = new WebSocket(API.replace(/^http/, "ws") + "/ws", ["bearer", token]);
  const acks = new Set<string>();
  ws.on("message", (d) => {
    const m = JSON.parse(d.toString()) as Json;
    if (m.type === "ping") ws.send(JSON.stringify({ type: "pong" }));
    if (m.type === "subscribed") acks.add(m.id as string);
    if (m.type === "event") events.get(m.id as string)?.push(m.data as Json);
  });
  await new Promise<void>((res, rej) => {
    ws.once("open", () => res());
    ws.once("error", rej);
  });
  for (const [name] of models()) {
    events.set(name, []);
    ws.send(JSON.stringify({ type: "subscribe", id: name, channel: schema.models[name]?.delegate }));
  }
  for (let i = 0; acks.size < models().length; i++) {
    assert.ok(i < 200, `subscribed to ${acks.size} of ${models().length} channels`);
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const [name, t] of models()) {
    const rows: { id: number; v: unknown }[] = [];
    for (const v of [...VALUES[t], null]) {
      const row = await call("POST", `/api/${schema.models[name]?.path}`, { v });
      rows.push({ id: row.id as number, v });
    }
    created.set(name, rows);
  }
});

after(() => ws.close());

/** Waits for the events the oracle expects, then a little longer for any it does not. */
async function settle(expected: number): Promise<void> {
  const total = () => [...events.values()].reduce((n, e) => n + e.length, 0);
  for (let i = 0; total() < expected && i < 250; i++) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 200));
}

describe("every scalar type × every operator, over HTTP and WebSocket", () => {
  it("read policies: HTTP (SQL) and WebSocket (in memory) see exactly the rows the oracle says", async () => {
    let expectedEvents = 0;
    for (const [name, t, op] of models()) {
      const rows = created.get(name) ?? [];
      expectedEvents += op === null ? rows.length : rows.filter((r) => holds(t, op, r.v)).length;
    }
    await settle(expectedEvents);
    let compared = 0;
    for (const [name, t, op] of models()) {
      if (op === null) continue;
      const rows = created.get(name) ?? [];
      const want = rows.filter((r) => holds(t, op, r.v)).map((r) => r.id).sort((a, b) => a - b);
      const list = await call("GET", `/api/${schema.models[name]?.path}?take=100`);
      const http = (list.data as Json[]).map((r) => r.id as number);
      const live = (events.get(name) ?? []).map((r) => r.id as number).sort((a, b) => a - b);
      const ids = new Set(rows.map((r) => r.id));
      assert.deepEqual(http.filter((id) => ids.has(id)).sort((a, b) => a - b), want, `${t} ${op} over HTTP`);
      assert.deepEqual(live, want, `${t} ${op} over WebSocket`);
      compared++;
    }
    assert.equal(compared, 54, "6 ordered types × 8 operators, Boolean × 2, enum × 4");
  });

  it("@readable masks: HTTP and WebSocket remove exactly the fields the oracle says", async () => {
    for (const [name, t, op] of models()) {
      if (op !== null) continue;
      const rows = created.get(name) ?? [];
      const list = await call("GET", `/api/${schema.models[name]?.path}?take=100`);
      const byId = new Map((list.data as Json[]).map((r) => [r.id as number, r]));
      const live = new Map((events.get(name) ?? []).map((r) => [r.id as number, r]));
      for (const row of rows) {
        for (const o of TYPES[t].ops as Op[]) {
          const field = `m${OP_NAMES[o]}`;
          const want = holds(t, o, row.v);
          assert.equal(field in (byId.get(row.id) ?? {}), want, `${t} ${o} on ${JSON.stringify(row.v)} over HTTP`);
          assert.equal(field in (live.get(row.id) ?? {}), want, `${t} ${o} on ${JSON.stringify(row.v)} over WebSocket`);
        }
      }
    }
  });
});
