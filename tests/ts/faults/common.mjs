// What the fault scenarios share: server instances of the generated tree as child processes (the
// command `npm start` runs), plain HTTP calls on a new connection each, the generated SDK's
// hybrid client as a subscriber that records what it sees, and waiting.
import { spawn } from "node:child_process";
import http from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { SignJWT } from "jose";
import { WebSocket } from "ws";

export const TREE = process.env.TREE;
const secret = new TextEncoder().encode(process.env.JWT_SECRET);

export const token = (claims) =>
  new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setExpirationTime("2h").sign(secret);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function until(what, pred, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** One request on a connection of its own (`Connection: close`): {status, text, ms} or {status: 0, error}. */
export function call(port, method, path, tok, body) {
  const started = Date.now();
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        agent: false,
        timeout: 15_000,
        headers: {
          ...(tok ? { authorization: `Bearer ${tok}` } : {}),
          ...(payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text, ms: Date.now() - started }));
        res.on("error", (e) => resolve({ status: 0, error: String(e), ms: Date.now() - started }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve({ status: 0, error: e.code ?? String(e), ms: Date.now() - started }));
    req.end(payload);
  });
}

/**
 * A server instance on `port` with `env`: the TypeScript server as `npm start` runs it (`node
 * dist/server/main.js`), or with `rust` the Rust server of the same schema (RUST_BIN: the blog
 * example's binary, on the tables the TypeScript tree pushed).
 */
export async function instance(name, port, env, rust = false) {
  // A server left over from an earlier run would answer in this one's place.
  if ((await call(port, "GET", "/health")).status !== 0) throw new Error(`port ${port} is taken`);
  const [cmd, args] = rust
    ? [process.env.RUST_BIN, []]
    : [process.execPath, ["--enable-source-maps", "dist/server/main.js"]];
  const child = spawn(cmd, args, {
    cwd: TREE,
    env: { ...process.env, PORT: String(port), LOG_LEVEL: "warn", RATE_LIMIT: "0", MIGRATE_ON_START: "false", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const it = { name, port, child, log: "", exit: null };
  child.stdout.on("data", (c) => (it.log += c));
  child.stderr.on("data", (c) => (it.log += c));
  it.exited = new Promise((resolve) =>
    child.on("exit", (code, signal) => {
      it.exit = { code, signal, at: Date.now() };
      resolve(it.exit);
    }),
  );
  await until(`${name} to be ready`, async () => {
    if (it.exit !== null) throw new Error(`${name} exited: ${it.log}`);
    return (await call(port, "GET", "/ready")).status === 200;
  });
  return it;
}

/**
 * A user of the blog, created by an admin on `port`, and `write(port, fields)`: a post by that
 * user on the instance at `port`, with `fields` (say a `body`) besides its title — the answer with the new `id`, when it was sent (`sentAt`) and when
 * it was answered (`at`). `label` (lower case) names the users, titles and slugs.
 */
export async function author(port, label) {
  const run = Date.now().toString(36);
  const admin = await token({ id: 1_000_000, role: "ADMIN" });
  const u = await call(port, "POST", "/api/users", admin, { email: `${label}-${run}@example.com`, name: label, role: "USER", passwordHash: "x" });
  if (u.status !== 201) throw new Error(`creating the author: ${u.status} ${u.text ?? u.error}`);
  const userId = JSON.parse(u.text).id;
  const tok = await token({ id: userId, role: "USER" });
  let k = 0;
  const write = async (to, fields = {}) => {
    const sentAt = Date.now();
    const r = await call(to, "POST", "/api/posts", tok, { title: `${label} ${k}`, slug: `${label}-${run}-${k++}`, authorId: userId, ...fields });
    return { ...r, id: r.status === 201 ? JSON.parse(r.text).id : null, sentAt, at: Date.now() };
  };
  return { admin, token: tok, write };
}

/**
 * A subscriber through the generated SDK (`createHybridClient`, dist/sdk) to `channel`: the
 * events it was handed, when `onResync` ran, and the close codes its sockets saw. `realtime`:
 * more of the SDK's WebSocketTransportOptions.
 */
export async function subscriber(name, port, tok, realtime = {}, channel = "post") {
  const sdk = await import(pathToFileURL(join(TREE, "dist/sdk/index.js")).href);
  const s = { name, events: [], resyncs: [], closes: [] };
  class Recorded extends WebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener("close", (e) => s.closes.push({ code: e.code, at: Date.now() }));
    }
  }
  s.client = sdk.createHybridClient({
    baseUrl: `http://127.0.0.1:${port}`,
    token: () => tok,
    realtime: { url: `ws://127.0.0.1:${port}/ws`, WebSocket: Recorded, initialDelayMs: 100, maxDelayMs: 1000, ...realtime },
  });
  s.unsubscribe = s.client.subscribe(
    channel,
    (e) => s.events.push({ event: e.event, id: e.data.id, seq: e.seq, at: Date.now(), data: e.data }),
    undefined,
    () => s.resyncs.push(Date.now()),
  );
  s.created = (id) => s.events.some((e) => e.event === "created" && e.id === id);
  s.createdAt = (id) => s.events.find((e) => e.event === "created" && e.id === id)?.at;
  s.close = () => s.client.realtime.close();
  return s;
}
