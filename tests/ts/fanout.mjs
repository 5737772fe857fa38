// Fan-out benchmark of the realtime gateway: N subscribers (one socket each, as an editor who may
// read every post), one writer creating posts over HTTP for SECONDS; prints delivered events/s
// and delivery latency (write request start → event received) percentiles as one JSON line.
// Usage: node fanout.mjs API_URL WS_URL(S, comma-separated) SUBSCRIBERS SECONDS LABEL
import { createHmac } from "node:crypto";
import { WebSocket } from "ws";

const [api, wsUrls, subscribers, seconds, label] = process.argv.slice(2);
const secret = process.env.JWT_SECRET ?? "";
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
function token(claims) {
  const unsigned = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ ...claims, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${unsigned}.${createHmac("sha256", secret).update(unsigned).digest("base64url")}`;
}
const editor = token({ id: 1, role: "EDITOR" });
const urls = wsUrls.split(",");
const latencies = [];
let delivered = 0;
const sockets = [];
await Promise.all(
  Array.from({ length: Number(subscribers) }, (_, i) => new Promise((resolve, reject) => {
    const ws = new WebSocket(urls[i % urls.length], ["bearer", editor]);
    sockets.push(ws);
    ws.on("open", () => ws.send(JSON.stringify({ type: "subscribe", id: "p", channel: "post" })));
    ws.on("message", (raw) => {
      const m = JSON.parse(raw.toString());
      if (m.type === "subscribed") resolve();
      else if (m.type === "ping") ws.send('{"type":"pong"}');
      else if (m.type === "event") {
        delivered++;
        latencies.push(performance.now() - Number(m.data.title.slice(2)));
      }
    });
    ws.on("error", reject);
  })),
);
const author = token({ id: 1, role: "ADMIN" });
let n = 0;
const start = performance.now();
const end = start + Number(seconds) * 1000;
async function writer(w) {
  while (performance.now() < end) {
    const res = await fetch(`${api}/api/posts`, {
      method: "POST",
      headers: { authorization: `Bearer ${author}`, "content-type": "application/json" },
      body: JSON.stringify({ title: `t:${performance.now()}`, slug: `f-${process.pid}-${w}-${n++}`, authorId: 1, published: true }),
    });
    if (res.status !== 201) throw new Error(`create: ${res.status} ${await res.text()}`);
  }
}
await Promise.all([0, 1, 2, 3].map(writer));
const writes = n;
const expected = writes * Number(subscribers);
const deadline = performance.now() + 10_000;
while (delivered < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
const elapsed = (performance.now() - start) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
for (const ws of sockets) ws.terminate();
console.log(JSON.stringify({
  label, subscribers: Number(subscribers), writes, delivered, lost: expected - delivered,
  eventsPerSecond: Math.round(delivered / elapsed), p50: +pct(50).toFixed(1), p99: +pct(99).toFixed(1),
}));
